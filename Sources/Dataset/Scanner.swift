import Foundation

/// One conversation folder: `ROOT/<language>/<name>/segments/…`.
public struct ConversationSource: Equatable, Sendable {
    public let language: String
    public let name: String
    public let folder: URL

    /// `language/name`: how logs, the report and the manifest name it.
    public var id: String { "\(language)/\(name)" }
    public var segmentsFolder: URL { folder.appendingPathComponent("segments") }
}

/// Walks the seed's dataset layout. Languages and conversations come in sorted (code point) order; every
/// entry whose name starts with `_` (e.g. `_meta`) or `.` is ignored, as are plain files at those levels.
public enum Scanner {
    public static let scriptName = "vibevoice-podcast-script.txt"

    public struct Result {
        public var conversations: [ConversationSource] = []
        /// Language folders that could not be listed.
        public var skips: [Skip] = []
    }

    public static func scan(_ root: URL) throws -> Result {
        guard isDirectory(root) else {
            throw FileManager.default.fileExists(atPath: root.path)
                ? DatasetError.inputNotADirectory(root.path) : DatasetError.inputNotFound(root.path)
        }
        var result = Result()
        let languages: [String]
        do { languages = try subfolders(of: root) } catch { throw DatasetError.cannotList(root.path, "\(error)") }
        for language in languages {
            let folder = root.appendingPathComponent(language)
            do {
                for name in try subfolders(of: folder) {
                    result.conversations.append(ConversationSource(
                        language: language, name: name, folder: folder.appendingPathComponent(name)))
                }
            } catch {
                result.skips.append(Skip(conversation: language, .unreadable(Self.reason(error))))
            }
        }
        guard !result.conversations.isEmpty || !result.skips.isEmpty else {
            throw DatasetError.nothingToDo(root.path)
        }
        return result
    }

    /// Sorted names of the visible subfolders (symbolic links to folders count).
    static func subfolders(of url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { !$0.hasPrefix("_") && !$0.hasPrefix(".") && isDirectory(url.appendingPathComponent($0)) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Foundation's errors wrap the POSIX reason in a long description; keep the one line that matters.
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return ns.localizedDescription
    }
}
