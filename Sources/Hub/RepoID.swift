import Foundation

/// A model repository on the hub, `org/name`, at a revision (branch, tag or commit), parsed from `org/name@revision`.
public struct RepoID: Hashable, Sendable, CustomStringConvertible {
    /// `org/name` (or a bare legacy `name`, as huggingface_hub allows).
    public let id: String
    /// Branch, tag or 40-hex commit; `main` when not given.
    public let revision: String

    public init(_ id: String, revision: String = "main") throws {
        guard RepoID.isValidID(id) else { throw HubError.invalidModelID(id) }
        guard !revision.isEmpty, !revision.split(separator: "/", omittingEmptySubsequences: false)
                .contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        else { throw HubError.invalidModelID("\(id)@\(revision)") }
        self.id = id
        self.revision = revision
    }

    /// Parses `org/name` or `org/name@revision`.
    public init(parsing text: String) throws {
        if let at = text.firstIndex(of: "@") {
            try self.init(String(text[..<at]), revision: String(text[text.index(after: at)...]))
        } else {
            try self.init(text)
        }
    }

    /// The cache folder name, as huggingface_hub's `repo_folder_name`: `models--org--name`.
    public var folderName: String { (["models"] + id.split(separator: "/").map(String.init)).joined(separator: "--") }

    /// Whether the revision is already a full commit hash (then no `refs/` entry is needed).
    public var revisionIsCommit: Bool { RepoID.isCommitHash(revision) }

    public var description: String { revision == "main" ? id : "\(id)@\(revision)" }

    static func isCommitHash(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// huggingface_hub's `REPO_ID_REGEX` and `validate_repo_id`: an optional namespace and a name, each 1-96 of
    /// `[A-Za-z0-9_.-]`, neither starting nor ending with `-` or `.`, and no `--` or `..` anywhere.
    static func isValidID(_ id: String) -> Bool {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !id.contains("--"), !id.contains("..") else { return false }
        return parts.allSatisfy { part in
            guard (1...96).contains(part.count), let first = part.first, let last = part.last,
                  !"-.".contains(first), !"-.".contains(last) else { return false }
            return part.unicodeScalars.allSatisfy {
                ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || "_-.".unicodeScalars.contains($0)
            }
        }
    }
}
