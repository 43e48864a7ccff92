import Foundation

/// Finds a hub model's files in the Hugging Face cache, downloading what is missing.
///
/// Cache first: when `refs/<revision>` names a commit whose snapshot holds every requested file (optional ones may
/// instead be recorded as absent in `.no_exist/`), the snapshot is returned without touching the network. Otherwise
/// the revision is resolved to a commit once and every missing file is fetched at that commit, so one snapshot never
/// mixes two versions of the repository. A complete cached branch is therefore not re-checked for new commits: pin a
/// commit (`org/name@<sha>`) to be explicit, or delete `refs/<branch>` to pick up the branch's newest commit.
public struct HubClient: Sendable {
    public let configuration: HubConfiguration
    public let cache: HubCache
    let http = HTTPClient()

    public init(configuration: HubConfiguration) {
        self.configuration = configuration
        cache = HubCache(root: configuration.cacheDirectory)
    }

    /// The snapshot folder `snapshots/<commit>/` of `repo` holding every file of `files` and those of `optional` that
    /// the repository has.
    public func snapshot(_ repo: RepoID, files: [String], optional: [String] = []) throws -> URL {
        for file in files + optional { try HubCache.validate(file: file) }
        let wanted = files.map { Wanted(file: $0, required: true) }
            + optional.filter { !files.contains($0) }.map { Wanted(file: $0, required: false) }

        if let commit = cache.commit(for: repo) {
            let lacking = wanted.filter { !isSatisfied($0, repo: repo, commit: commit) }
            if lacking.isEmpty { return cache.snapshotFolder(repo, commit: commit) }
            if configuration.offline {
                // Offline, an optional file we know nothing about counts as absent.
                if let missing = lacking.first(where: \.required) { throw offlineMissing(repo, missing.file) }
                return cache.snapshotFolder(repo, commit: commit)
            }
        } else if configuration.offline {
            throw offlineMissing(repo, wanted.first?.file ?? "refs/\(repo.revision)")
        }
        return try download(repo, wanted: wanted)
    }

    /// A file asked for, and whether its absence is an error.
    private struct Wanted {
        let file: String
        let required: Bool
    }

    private func isSatisfied(_ wanted: Wanted, repo: RepoID, commit: String) -> Bool {
        cache.cachedFile(repo, commit: commit, file: wanted.file) != nil
            || (!wanted.required && cache.isKnownMissing(repo, commit: commit, file: wanted.file))
    }

    private func offlineMissing(_ repo: RepoID, _ file: String) -> HubError {
        .offlineFileMissing(repo: repo.description, file: file, cache: cache.repoFolder(repo).path)
    }

    private func download(_ repo: RepoID, wanted: [Wanted]) throws -> URL {
        try Disk.createDirectory(cache.root)
        cache.writeCacheDirTag()

        // Pin the commit: a commit revision is one already; otherwise the first answer's X-Repo-Commit says where the
        // branch or tag points now (it may have moved since the cache was filled).
        var commit: String? = repo.revisionIsCommit ? repo.revision : nil
        var answered: [String: FileLookup] = [:]
        for probe in wanted where commit == nil {
            let answer = try lookup(repo, revision: repo.revision, file: probe.file)
            answered[probe.file] = answer
            switch answer {
            case .found(let metadata): commit = metadata.commit
            case .missing(let at):
                if probe.required {
                    throw HubError.fileNotFound(repo: repo.id, revision: repo.revision, file: probe.file)
                }
                commit = at
            }
        }
        guard let commit else {
            throw HubError.fileNotFound(repo: repo.id, revision: repo.revision, file: wanted.first?.file ?? "")
        }
        try cache.writeRef(repo, commit: commit)

        for item in wanted where !isSatisfied(item, repo: repo, commit: commit) {
            switch try answered[item.file] ?? lookup(repo, revision: commit, file: item.file) {
            case .found(let metadata):
                try fetchBlob(repo, file: item.file, metadata: metadata)
                try cache.link(repo, commit: commit, file: item.file, etag: metadata.etag)
            case .missing:
                if item.required {
                    throw HubError.fileNotFound(repo: repo.id, revision: repo.revision, file: item.file)
                }
                cache.markMissing(repo, commit: commit, file: item.file)
            }
        }
        let folder = cache.snapshotFolder(repo, commit: commit)
        try Disk.createDirectory(folder)
        return folder
    }
}
