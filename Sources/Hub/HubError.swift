import Foundation

/// Everything that can go wrong while finding or downloading a model, each saying what to do about it.
public enum HubError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case invalidModelID(String)
    case localFolderNotFound(String)
    case notAFolder(String)
    /// A file name that is not a plain relative path inside a repository (absolute, `..`, empty parts).
    case invalidFileName(String)
    case invalidSetting(name: String, value: String, expected: String)
    /// `HF_HUB_OFFLINE` is set and the cache does not hold this file.
    case offlineFileMissing(repo: String, file: String, cache: String)
    /// 401/403: private or gated repository and no (or an insufficient) token.
    case accessDenied(repo: String, status: Int, gated: Bool, tokenSent: Bool)
    case repoNotFound(repo: String, tokenSent: Bool)
    case revisionNotFound(repo: String, revision: String)
    case fileNotFound(repo: String, revision: String, file: String)
    /// No answer from the hub (DNS, refused connection, timeout, dropped connection after every resume attempt).
    case network(url: String, reason: String, cache: String)
    case httpStatus(url: String, status: Int, message: String?)
    /// The endpoint answered but not like the hub (no `X-Repo-Commit` or `ETag`).
    case notAHubEndpoint(url: String, missingHeader: String)
    case sizeMismatch(file: String, expected: Int64, received: Int64)
    /// The bytes do not hash to the sha256 the hub gave as the file's etag.
    case checksumMismatch(file: String, expected: String, received: String)
    case disk(path: String, reason: String)
    case invalidIndex(file: String, reason: String)

    public var description: String {
        switch self {
        case .invalidModelID(let id):
            return "'\(id)' is neither an existing folder nor a Hugging Face model id ('org/name' or "
                + "'org/name@revision', letters, digits, '-', '_' and '.')."
        case .localFolderNotFound(let path):
            return "model folder '\(path)' does not exist; pass an existing folder or a hub id such as "
                + "'sesame/csm-1b'."
        case .notAFolder(let path):
            return "'\(path)' is a file; --model_id takes a model folder (holding config.json) or a hub id."
        case .invalidFileName(let name):
            return "'\(name)' is not a file name inside a model repository (relative, no '..')."
        case .invalidSetting(let name, let value, let expected):
            return "\(name)='\(value)' is not valid: expected \(expected)."
        case .offlineFileMissing(let repo, let file, let cache):
            return "'\(file)' of \(repo) is not in the Hugging Face cache (\(cache)) and HF_HUB_OFFLINE is set, "
                + "so it cannot be downloaded. Unset HF_HUB_OFFLINE to download it, or fetch it on a connected "
                + "machine with `hf download \(repo) \(file)` and copy the cache folder here."
        case .accessDenied(let repo, let status, let gated, let tokenSent):
            let what = gated ? "\(repo) is a gated model" : "access to \(repo) was refused (HTTP \(status))"
            if tokenSent {
                return "\(what) and the token in HF_TOKEN was not accepted. Accept the model's terms on "
                    + "https://huggingface.co/\(repo) with the account that owns the token, or use a token with "
                    + "read access."
            }
            return "\(what): it needs a Hugging Face token. Accept the terms on https://huggingface.co/\(repo), then "
                + "set HF_TOKEN=hf_... (a read token from https://huggingface.co/settings/tokens) or run "
                + "`hf auth login`."
        case .repoNotFound(let repo, let tokenSent):
            return "model repository '\(repo)' was not found on the hub. Check the spelling"
                + (tokenSent ? "." : "; if it is private, set HF_TOKEN to a token that can read it.")
        case .revisionNotFound(let repo, let revision):
            return "revision '\(revision)' of \(repo) does not exist (use a branch, tag or commit hash of the repo)."
        case .fileNotFound(let repo, let revision, let file):
            return "\(repo) has no file '\(file)' at revision '\(revision)'; is it a CSM checkpoint?"
        case .network(let url, let reason, let cache):
            return "cannot reach \(url): \(reason). Check the connection (and HF_ENDPOINT if set). To work from the "
                + "local cache only (\(cache)), set HF_HUB_OFFLINE=1."
        case .httpStatus(let url, let status, let message):
            return "\(url) answered HTTP \(status)" + (message.map { ": \($0)" } ?? "") + "; try again later."
        case .notAHubEndpoint(let url, let header):
            return "\(url) answered without the '\(header)' header, so it is not a Hugging Face hub endpoint; "
                + "check HF_ENDPOINT and any proxy in between."
        case .sizeMismatch(let file, let expected, let received):
            return "download of '\(file)' is inconsistent: the hub announced \(expected) bytes but \(received) "
                + "arrived. Run again to download it afresh."
        case .checksumMismatch(let file, let expected, let received):
            return "download of '\(file)' is corrupt: its sha256 is \(received) but the hub announced \(expected). "
                + "The bytes were discarded; run again to download it afresh."
        case .disk(let path, let reason):
            return "cannot write the Hugging Face cache at \(path): \(reason). Free some space or point HF_HUB_CACHE "
                + "(or HF_HOME) at a writable folder."
        case .invalidIndex(let file, let reason):
            return "\(file) is not a valid safetensors index: \(reason)."
        }
    }

    public var errorDescription: String? { description }
}
