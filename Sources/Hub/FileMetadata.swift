import Foundation

/// What the hub says about one file at one revision, read from a HEAD on `<endpoint>/<repo>/resolve/<rev>/<file>`
/// (huggingface_hub's `get_hf_file_metadata`).
struct FileMetadata {
    /// `X-Repo-Commit`: the commit the revision resolved to.
    let commit: String
    /// `X-Linked-Etag` (LFS files: sha256 of the content) else `ETag` (git blob sha1), quotes and `W/` removed.
    let etag: String
    /// `X-Linked-Size`, else `Content-Length` of a non-redirect answer.
    let size: Int64?
    /// Where to GET the bytes: the redirect target (a CDN) or the resolve URL itself.
    let location: URL

    /// The etag when it is a sha256 (64 hex digits: LFS files) and so can check the bytes; a git sha1 hashes a
    /// header with them and is not checked.
    var sha256: String? {
        etag.count == 64 && etag.allSatisfy(\.isHexDigit) ? etag.lowercased() : nil
    }
}

/// The outcome of asking for one file: there (with metadata), or absent at a commit.
enum FileLookup {
    case found(FileMetadata)
    /// 404 `EntryNotFound`; `commit` from `X-Repo-Commit` when the hub sent it.
    case missing(commit: String?)
}

extension HubClient {
    func resolveURL(_ repo: RepoID, revision: String, file: String) -> URL {
        // As `hf_hub_url`: the revision is escaped whole (a `refs/pr/1` revision becomes one segment), the file keeps
        // its slashes.
        let revisionPart = revision.addingPercentEncoding(withAllowedCharacters: .alphanumerics
            .union(CharacterSet(charactersIn: "-._~"))) ?? revision
        let filePart = file.addingPercentEncoding(withAllowedCharacters: .alphanumerics
            .union(CharacterSet(charactersIn: "-._~/"))) ?? file
        return URL(string: "\(configuration.endpoint.absoluteString)/\(repo.id)/resolve/\(revisionPart)/\(filePart)")!
    }

    /// Headers for a request to `url`: the token only goes to the hub's own origin.
    func headers(for url: URL) -> [String: String] {
        guard let token = configuration.token, HTTPClient.sameOrigin(url, configuration.endpoint) else { return [:] }
        return ["Authorization": "Bearer \(token)"]
    }

    /// HEAD the file, following redirects that stay on the hub's origin (renamed repos, `/api/resolve-cache`) and
    /// stopping at one that leaves it: that answer carries the metadata and its `Location` is the CDN download URL.
    func lookup(_ repo: RepoID, revision: String, file: String) throws -> FileLookup {
        var url = resolveURL(repo, revision: revision, file: file)
        var lastStatus = 0
        for _ in 0..<10 {
            let response = try head(url)
            lastStatus = response.status
            if response.isRedirect, let location = URL(string: response["Location"]!, relativeTo: url)?.absoluteURL {
                if HTTPClient.sameOrigin(url, location) {
                    url = location
                    continue
                }
                return .found(try metadata(from: response, location: location, url: url))
            }
            if response.status == 404, response["X-Error-Code"] == nil || response["X-Error-Code"] == "EntryNotFound" {
                return .missing(commit: response["X-Repo-Commit"].flatMap { RepoID.isCommitHash($0) ? $0 : nil })
            }
            try check(response, repo: repo, revision: revision, file: file)
            let found = try metadata(from: response, location: url, url: url)
            // Download from the commit, not the branch, so a push between this HEAD and the GET cannot swap the bytes
            // under the etag (a redirect on the hub already pins them).
            guard url == resolveURL(repo, revision: revision, file: file) else { return .found(found) }
            return .found(FileMetadata(commit: found.commit, etag: found.etag, size: found.size,
                                       location: resolveURL(repo, revision: found.commit, file: file)))
        }
        throw HubError.httpStatus(url: url.absoluteString, status: lastStatus, message: "more than 10 redirects")
    }

    /// One HEAD, retried twice with growing pauses when the hub is unreachable or busy (429, 5xx), as
    /// huggingface_hub's backoff does before it gives up.
    private func head(_ url: URL) throws -> HTTPResponse {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try http.head(url, headers: headers(for: url), timeout: configuration.metadataTimeout)
                guard HTTPResponse.isTransient(response.status), attempt < 3 else { return response }
            } catch let error as TransportError {
                guard attempt < 3 else {
                    throw HubError.network(url: error.url.absoluteString, reason: error.reason,
                                           cache: configuration.cacheDirectory.path)
                }
            }
            Thread.sleep(forTimeInterval: configuration.retryDelay * Double(attempt))
        }
    }

    private func metadata(from response: HTTPResponse, location: URL, url: URL) throws -> FileMetadata {
        // The commit names a folder under snapshots/: only a full hash will do.
        guard let commit = response["X-Repo-Commit"], RepoID.isCommitHash(commit) else {
            throw HubError.notAHubEndpoint(url: url.absoluteString, missingHeader: "X-Repo-Commit")
        }
        guard let rawTag = response["X-Linked-Etag"] ?? response["ETag"] else {
            throw HubError.notAHubEndpoint(url: url.absoluteString, missingHeader: "ETag")
        }
        // `_normalize_etag`: strip a weak-validator prefix and the quotes.
        var etag = Substring(rawTag.trimmingCharacters(in: .whitespaces))
        if etag.hasPrefix("W/") { etag = etag.dropFirst(2) }
        etag = etag.drop(while: { $0 == "\"" })
        while etag.last == "\"" { etag = etag.dropLast() }
        // The etag names a file in blobs/: refuse anything that could escape it.
        guard !etag.isEmpty, !etag.contains("/"), etag != ".", etag != ".." else {
            throw HubError.notAHubEndpoint(url: url.absoluteString, missingHeader: "ETag")
        }
        let sizeText = response["X-Linked-Size"] ?? (response.isRedirect ? nil : response["Content-Length"])
        return FileMetadata(commit: commit, etag: String(etag), size: sizeText.flatMap { Int64($0) }, location: location)
    }

    /// Turns an error status into the error a user can act on (huggingface_hub's `hf_raise_for_status`, which keys on
    /// the hub's `X-Error-Code` header).
    func check(_ response: HTTPResponse, repo: RepoID, revision: String, file: String) throws {
        let status = response.status
        guard !(200..<300).contains(status) else { return }
        let code = response["X-Error-Code"]
        let tokenSent = configuration.token != nil
        switch (status, code) {
        case (_, "GatedRepo"):
            throw HubError.accessDenied(repo: repo.id, status: status, gated: true, tokenSent: tokenSent)
        case (_, "RevisionNotFound"):
            throw HubError.revisionNotFound(repo: repo.id, revision: revision)
        case (404, "EntryNotFound"), (404, nil):
            throw HubError.fileNotFound(repo: repo.id, revision: revision, file: file)
        case (_, "RepoNotFound"):
            throw HubError.repoNotFound(repo: repo.id, tokenSent: tokenSent)
        case (401, _), (403, _):
            throw HubError.accessDenied(repo: repo.id, status: status, gated: false, tokenSent: tokenSent)
        default:
            throw HubError.httpStatus(url: response.url.absoluteString, status: status,
                                      message: response["X-Error-Message"])
        }
    }
}
