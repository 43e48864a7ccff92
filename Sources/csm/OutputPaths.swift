import Foundation

/// A run-time error of a subcommand: printed as "Error: …" with exit code 1, without the usage text
/// ArgumentParser adds to a `ValidationError`.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Output paths are checked before any work, so a typo costs seconds, not a whole generation or merge.
enum OutputPath {
    /// `path` will be written as a file (its folder is made when the result is written): it must not be a folder.
    static func checkFile(_ path: String, flag: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw CommandError("\(flag) \(path) is a folder; give a file path")
        }
    }

    /// Makes the folder a checked file path will be written into.
    static func makeFolder(for file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    }

    /// `path` will be written as a folder (created if missing): it must not be an existing file, nor `protected`.
    static func checkFolder(_ path: String, flag: String, notSameAs protected: URL, what: String) throws {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw CommandError("\(flag) \(path) is an existing file; give a folder path")
        }
        guard url.standardizedFileURL.resolvingSymlinksInPath() != protected.standardizedFileURL.resolvingSymlinksInPath() else {
            throw CommandError("\(flag) must differ from \(what) (\(protected.path)): writing there would overwrite it")
        }
    }
}
