import ConsoleProgress
import Foundation

/// Where the Hugging Face cache lives, which hub to talk to and how: the environment variables huggingface_hub reads
/// (`huggingface_hub/constants.py`), with the same names, defaults and precedence.
///
/// Built from the environment by default; tests build one by hand so that parallel tests never share process state.
public struct HubConfiguration: Sendable {
    /// The hub cache folder holding `models--ORG--NAME/` trees.
    public var cacheDirectory: URL
    /// `HF_ENDPOINT` without a trailing slash, e.g. `https://huggingface.co`.
    public var endpoint: URL
    /// Sent as `Authorization: Bearer <token>` to the hub (never to a CDN it redirects to).
    public var token: String?
    /// `HF_HUB_OFFLINE`: no network at all; only what the cache holds.
    public var offline: Bool
    /// Seconds without a reply before a metadata (HEAD) request gives up (`HF_HUB_ETAG_TIMEOUT`).
    public var metadataTimeout: TimeInterval
    /// Seconds without a byte before a download gives up (`HF_HUB_DOWNLOAD_TIMEOUT`).
    public var downloadTimeout: TimeInterval
    /// How many times a dropped download is resumed within one run before giving up (huggingface_hub: 5).
    public var maxResumes: Int
    /// Pause before resuming a dropped download or retrying a busy hub (growing with each attempt for the latter).
    public var retryDelay: TimeInterval
    /// Progress reporting on stderr.
    public var progress: ProgressStyle

    public init(
        cacheDirectory: URL, endpoint: URL = HubConfiguration.defaultEndpoint, token: String? = nil,
        offline: Bool = false, metadataTimeout: TimeInterval = 10, downloadTimeout: TimeInterval = 10,
        maxResumes: Int = 5, retryDelay: TimeInterval = 1, progress: ProgressStyle = .automatic
    ) {
        self.cacheDirectory = cacheDirectory
        self.endpoint = endpoint
        self.token = token
        self.offline = offline
        self.metadataTimeout = metadataTimeout
        self.downloadTimeout = downloadTimeout
        self.maxResumes = maxResumes
        self.retryDelay = retryDelay
        self.progress = progress
    }

    public static let defaultEndpoint = URL(string: "https://huggingface.co")!

    /// The configuration huggingface_hub would use in a process with this environment.
    ///
    /// - cache: `HF_HUB_CACHE`, else the legacy `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, where `HF_HOME` defaults
    ///   to `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`;
    /// - token: `HF_TOKEN`, else the file `HF_TOKEN_PATH` (default `$HF_HOME/token`, written by `hf auth login`);
    /// - offline: `HF_HUB_OFFLINE` or `TRANSFORMERS_OFFLINE` set to 1/on/yes/true (any case);
    /// - progress: none when `HF_HUB_DISABLE_PROGRESS_BARS` is true.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> HubConfiguration {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        func path(_ raw: String) -> URL {
            if raw == "~" { return home }
            if raw.hasPrefix("~/") { return home.appendingPathComponent(String(raw.dropFirst(2))) }
            return URL(fileURLWithPath: raw)
        }

        let hfHome = value("HF_HOME").map(path)
            ?? (value("XDG_CACHE_HOME").map(path) ?? home.appendingPathComponent(".cache"))
                .appendingPathComponent("huggingface")
        let cache = (value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE")).map(path)
            ?? hfHome.appendingPathComponent("hub")

        let endpointText = value("HF_ENDPOINT").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        var endpoint = defaultEndpoint
        if let endpointText {
            guard let url = URL(string: endpointText), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", url.host != nil
            else { throw HubError.invalidSetting(name: "HF_ENDPOINT", value: endpointText,
                                                 expected: "an http(s) URL such as https://huggingface.co") }
            endpoint = url
        }

        var token = value("HF_TOKEN")
        if token == nil {
            let tokenFile = value("HF_TOKEN_PATH").map(path) ?? hfHome.appendingPathComponent("token")
            token = (try? String(contentsOf: tokenFile, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if token?.isEmpty == true { token = nil }
        }

        let truthy: Set<String> = ["1", "ON", "YES", "TRUE"]
        let offline = truthy.contains((value("HF_HUB_OFFLINE") ?? value("TRANSFORMERS_OFFLINE") ?? "").uppercased())
        let quiet = truthy.contains((value("HF_HUB_DISABLE_PROGRESS_BARS") ?? "").uppercased())

        func seconds(_ name: String, default fallback: TimeInterval) throws -> TimeInterval {
            guard let text = value(name) else { return fallback }
            guard let number = Int(text), number > 0 else {
                throw HubError.invalidSetting(name: name, value: text, expected: "a positive whole number of seconds")
            }
            return TimeInterval(number)
        }

        return HubConfiguration(
            cacheDirectory: cache, endpoint: endpoint, token: token, offline: offline,
            metadataTimeout: try seconds("HF_HUB_ETAG_TIMEOUT", default: 10),
            downloadTimeout: try seconds("HF_HUB_DOWNLOAD_TIMEOUT", default: 10),
            progress: quiet ? .silent : .automatic
        )
    }
}
