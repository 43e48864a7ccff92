import Foundation

/// The on-disk layout of the Hugging Face hub cache, exactly as huggingface_hub writes and reads it:
///
///     <cache>/models--ORG--NAME/
///         refs/<revision>                  the commit hash the revision (e.g. `main`) pointed to, no newline
///         blobs/<etag>                     file contents, named by ETag (git sha1, or sha256 for LFS files)
///         blobs/<etag>.incomplete          a download in progress (resumed from its size)
///         snapshots/<commit>/<file>        relative symlink → ../../blobs/<etag>
///         .no_exist/<commit>/<file>        empty marker: the hub said this file does not exist at that commit
///     <cache>/.locks/models--ORG--NAME/<etag>.lock
///
/// Sharing the layout means a model fetched by Python tools is found here and vice versa.
public struct HubCache: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public func repoFolder(_ repo: RepoID) -> URL { root.appendingPathComponent(repo.folderName) }

    /// The commit a revision points to locally: the revision itself when it is a commit hash, else `refs/<revision>`.
    public func commit(for repo: RepoID) -> String? {
        if repo.revisionIsCommit { return repo.revision }
        let ref = repoFolder(repo).appendingPathComponent("refs").appendingPathComponent(repo.revision)
        guard let text = try? String(contentsOf: ref, encoding: .utf8) else { return nil }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return RepoID.isCommitHash(commit) ? commit : nil
    }

    public func snapshotFolder(_ repo: RepoID, commit: String) -> URL {
        repoFolder(repo).appendingPathComponent("snapshots").appendingPathComponent(commit)
    }

    /// The snapshot entry for `file` when it exists and its blob is there (a dangling link counts as missing).
    public func cachedFile(_ repo: RepoID, commit: String, file: String) -> URL? {
        let url = snapshotFolder(repo, commit: commit).appendingPathComponent(file)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Whether an earlier run learned that `file` does not exist at `commit` (huggingface_hub's `.no_exist`).
    public func isKnownMissing(_ repo: RepoID, commit: String, file: String) -> Bool {
        FileManager.default.fileExists(atPath: noExistMarker(repo, commit: commit, file: file).path)
    }

    func noExistMarker(_ repo: RepoID, commit: String, file: String) -> URL {
        repoFolder(repo).appendingPathComponent(".no_exist").appendingPathComponent(commit)
            .appendingPathComponent(file)
    }

    /// Records that `file` does not exist at `commit`. Best effort, as in huggingface_hub: a read-only cache only
    /// costs a request next time.
    func markMissing(_ repo: RepoID, commit: String, file: String) {
        let marker = noExistMarker(repo, commit: commit, file: file)
        try? FileManager.default.createDirectory(at: marker.deletingLastPathComponent(),
                                                 withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: marker.path, contents: Data())
    }

    public func blob(_ repo: RepoID, etag: String) -> URL {
        repoFolder(repo).appendingPathComponent("blobs").appendingPathComponent(etag)
    }

    func incompleteBlob(_ repo: RepoID, etag: String) -> URL {
        repoFolder(repo).appendingPathComponent("blobs").appendingPathComponent(etag + ".incomplete")
    }

    func lockFile(_ repo: RepoID, etag: String) -> URL {
        root.appendingPathComponent(".locks").appendingPathComponent(repo.folderName)
            .appendingPathComponent(etag + ".lock")
    }

    /// Points `refs/<revision>` at `commit` (no-op for a commit revision or an up-to-date ref). Written to a temporary
    /// name then renamed, so a concurrent reader never sees half a hash.
    func writeRef(_ repo: RepoID, commit: String) throws {
        guard !repo.revisionIsCommit, self.commit(for: repo) != commit else { return }
        let ref = repoFolder(repo).appendingPathComponent("refs").appendingPathComponent(repo.revision)
        try Disk.createDirectory(ref.deletingLastPathComponent())
        let temporary = ref.deletingLastPathComponent()
            .appendingPathComponent(".\(ref.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
        try Disk.write(Data(commit.utf8), to: temporary)
        try Disk.rename(temporary, to: ref)
    }

    /// Creates `snapshots/<commit>/<file>` as a relative symlink to `blobs/<etag>` (relative so that the cache can be
    /// moved), replacing whatever was there atomically.
    func link(_ repo: RepoID, commit: String, file: String, etag: String) throws {
        let pointer = snapshotFolder(repo, commit: commit).appendingPathComponent(file)
        let depth = 2 + file.split(separator: "/").count - 1  // snapshots/<commit>/[dirs/]file → up to the repo folder
        let target = String(repeating: "../", count: depth) + "blobs/" + etag
        try Disk.createDirectory(pointer.deletingLastPathComponent())
        let temporary = pointer.deletingLastPathComponent()
            .appendingPathComponent(".\(pointer.lastPathComponent).\(UUID().uuidString.prefix(8)).link")
        guard symlink(target, temporary.path) == 0 else {
            throw HubError.disk(path: temporary.path, reason: String(cString: strerror(errno)))
        }
        try Disk.rename(temporary, to: pointer)
    }

    /// Tags the cache for backup tools (CACHEDIR.TAG standard), as huggingface_hub does. Best effort.
    func writeCacheDirTag() {
        let tag = root.appendingPathComponent("CACHEDIR.TAG")
        guard !FileManager.default.fileExists(atPath: tag.path) else { return }
        let content = "Signature: 8a477f597d28d172789f06886806bc55\n"
            + "# This file is a cache directory tag created by huggingface_hub.\n"
            + "# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n"
        try? Data(content.utf8).write(to: tag)
    }

    /// huggingface_hub's `_validate_relative_filename`: a plain relative path that stays inside the snapshot.
    static func validate(file: String) throws {
        let parts = file.split(separator: "/", omittingEmptySubsequences: false)
        guard !file.isEmpty, !file.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        else { throw HubError.invalidFileName(file) }
    }
}
