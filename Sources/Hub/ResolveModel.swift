import Foundation

/// The local folder holding a model given as `--model_id`: an existing folder is used as is; anything else must be a
/// hub id (`org/name` or `org/name@revision`), resolved through the Hugging Face cache and downloaded when missing.
///
/// - Parameters:
///   - files: files the caller cannot do without; a missing one is an error.
///   - optional: files used when the repository has them (a 404 is remembered in `.no_exist/`, as huggingface_hub).
///   - configuration: defaults to the process environment (`HF_HUB_CACHE`, `HF_HOME`, `HF_ENDPOINT`, `HF_TOKEN`,
///     `HF_HUB_OFFLINE`).
public func resolveModel(
    _ id: String, files: [String], optional: [String] = [], configuration: HubConfiguration? = nil
) throws -> URL {
    if let folder = try localFolder(id) { return folder }
    let repo = try RepoID(parsing: id)
    return try HubClient(configuration: configuration ?? .fromEnvironment()).snapshot(repo, files: files,
                                                                                      optional: optional)
}

/// `id` as an existing folder; throws when it can only have meant a path (`./x`, `/x`, `~/x`, `a/b/c`) that is absent.
func localFolder(_ id: String) throws -> URL? {
    let expanded = id == "~" || id.hasPrefix("~/")
        ? FileManager.default.homeDirectoryForCurrentUser.path + id.dropFirst() : id
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: expanded, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw HubError.notAFolder(id) }
        return URL(fileURLWithPath: expanded, isDirectory: true).standardizedFileURL
    }
    let looksLikePath = id.hasPrefix("/") || id.hasPrefix(".") || id.hasPrefix("~") || id.hasSuffix("/")
        || id.split(separator: "/").count > 2
    if looksLikePath && !id.contains("@") { throw HubError.localFolderNotFound(id) }
    return nil
}
