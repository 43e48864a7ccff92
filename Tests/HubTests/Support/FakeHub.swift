import Crypto
import Foundation
import TestSupport
@testable import Hub

/// The hub's URL layout on two local servers, answering as huggingface.co does:
///
/// - `HEAD|GET /<org>/<name>/resolve/<revision>/<file>` on the hub: small files answer 200 with `ETag` (40 hex, like
///   a git sha1), `X-Repo-Commit` and the bytes; LFS files answer 302 to the CDN with `X-Linked-Etag` (64 hex, like a
///   sha256) and `X-Linked-Size`. Errors carry `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound,
///   GatedRepo) as the hub's do.
/// - `GET /cdn/<etag>` on the CDN (another port, so another origin): the blob, honouring `Range: bytes=N-`.
///
/// `dropFirstDownload` makes the next GET of a blob send half its bytes and hang up; `dropEveryDownload` does that and
/// then hangs up every later GET before its first body byte (the line went dead); `corrupt` flips one byte of every
/// body sent for a blob (same size, other bytes).
final class FakeHub: @unchecked Sendable {
    struct Repo {
        var commit: String
        var files: [String: Data]
        /// Files stored in LFS (served through the CDN redirect).
        var lfs: Set<String> = []
        /// A gated repository: every request needs `Authorization: Bearer <token>`.
        var token: String? = nil
    }

    private let lock = NSLock()
    private var repos: [String: Repo]
    private var dropOnce: Set<String> = []
    /// Blobs whose GETs all fail: the first after half its bytes, the others at once.
    private var dropAlways: [String: Int] = [:]
    private var corrupted: Set<String> = []
    private var rangesIgnored = false
    private var busyAnswers = 0
    private(set) var cdn: TestHTTPServer!
    private(set) var hub: TestHTTPServer!

    init(_ repos: [String: Repo]) throws {
        self.repos = repos
        cdn = try TestHTTPServer { [unowned self] in self.serveCDN($0) }
        hub = try TestHTTPServer { [unowned self] in self.serveHub($0) }
    }

    deinit {
        hub?.stop()
        cdn?.stop()
    }

    var endpoint: URL { hub.baseURL }

    /// All requests either server received.
    var requestCount: Int { hub.requests.count + cdn.requests.count }

    func update(_ name: String, _ change: (inout Repo) -> Void) { lock.withLock { change(&repos[name]!) } }

    func dropFirstDownload(of etag: String) { lock.withLock { _ = dropOnce.insert(etag) } }
    func dropEveryDownload(of etag: String) { lock.withLock { dropAlways[etag] = 0 } }
    func corrupt(_ etag: String) { lock.withLock { _ = corrupted.insert(etag) } }
    /// Answer the next `count` hub requests with 503, as an overloaded hub does.
    func beBusy(for count: Int) { lock.withLock { busyAnswers = count } }

    /// Answer ranged GETs with the whole file (200), as some CDNs do.
    func ignoreRanges() { lock.withLock { rangesIgnored = true } }

    func configuration(cache: URL, token: String? = nil, offline: Bool = false) -> HubConfiguration {
        HubConfiguration(cacheDirectory: cache, endpoint: endpoint, token: token, offline: offline,
                         metadataTimeout: 5, downloadTimeout: 5, maxResumes: 3, retryDelay: 0.02,
                         progress: .silent)
    }

    /// The etag the hub gives a file: its sha256 for LFS files (as the hub), 40 hex digits for git files (the hub's
    /// is the git blob sha1; any stable hash serves here, the client does not check it).
    static func etag(_ data: Data, lfs: Bool) -> String {
        if lfs { return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: any stable content hash serves the test
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(format: "%016llx", hash)
        return String(String(repeating: hex, count: 3).prefix(40))
    }

    private func serveHub(_ request: TestHTTPServer.Request) -> TestHTTPServer.Response {
        // /<org>/<name>/resolve/<revision>/<file...>
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard parts.count >= 5, parts[2] == "resolve" else { return .init(status: 404) }
        let busy = lock.withLock { () -> Bool in
            defer { busyAnswers = max(0, busyAnswers - 1) }
            return busyAnswers > 0
        }
        if busy { return .init(status: 503) }
        let name = parts[0] + "/" + parts[1]
        let revision = parts[3].removingPercentEncoding ?? parts[3]
        let file = parts[4...].joined(separator: "/")
        guard let repo = lock.withLock({ repos[name] }) else {
            return .init(status: 401, headers: [("X-Error-Code", "RepoNotFound")])
        }
        if let token = repo.token, request.headers["authorization"] != "Bearer \(token)" {
            return .init(status: request.headers["authorization"] == nil ? 401 : 403,
                         headers: [("X-Error-Code", "GatedRepo"), ("X-Error-Message", "Access restricted")])
        }
        guard revision == "main" || revision == repo.commit else {
            return .init(status: 404, headers: [("X-Error-Code", "RevisionNotFound")])
        }
        let commit = ("X-Repo-Commit", repo.commit)
        guard let data = repo.files[file] else {
            return .init(status: 404, headers: [("X-Error-Code", "EntryNotFound"), commit])
        }
        if repo.lfs.contains(file) {
            let etag = FakeHub.etag(data, lfs: true)
            let pointerEtag = FakeHub.etag(Data(etag.utf8), lfs: false)  // the git sha1 of the LFS pointer file
            return .init(status: 302, headers: [
                ("Location", cdn.baseURL.absoluteString + "/cdn/" + etag), ("ETag", "\"\(pointerEtag)\""),
                ("X-Linked-Etag", "\"\(etag)\""), ("X-Linked-Size", "\(data.count)"), commit,
            ])
        }
        var response = serveBytes(data, etag: FakeHub.etag(data, lfs: false), request: request)
        response.headers += [("ETag", "\"\(FakeHub.etag(data, lfs: false))\""), commit]
        return response
    }

    private func serveCDN(_ request: TestHTTPServer.Request) -> TestHTTPServer.Response {
        let etag = String(request.path.split(separator: "/").last ?? "")
        let blob = lock.withLock {
            repos.values.lazy.flatMap { repo in repo.lfs.compactMap { repo.files[$0] } }
                .first { FakeHub.etag($0, lfs: true) == etag }
        }
        guard let blob else { return .init(status: 404) }
        return serveBytes(blob, etag: etag, request: request)
    }

    /// The whole file, or from `Range: bytes=N-`; possibly hanging up half-way.
    private func serveBytes(_ data: Data, etag: String, request: TestHTTPServer.Request) -> TestHTTPServer.Response {
        var data = data
        if lock.withLock({ corrupted.contains(etag) }) { data[data.startIndex + data.count / 3] ^= 0xFF }
        var response = TestHTTPServer.Response(status: 200, body: data)
        if !lock.withLock({ rangesIgnored }), let range = request.headers["range"], range.hasPrefix("bytes="),
           range.hasSuffix("-"),
           let start = Int(range.dropFirst(6).dropLast()) {
            guard start < data.count else {
                return .init(status: 416, headers: [("Content-Range", "bytes */\(data.count)")])
            }
            response = .init(status: 206, headers: [("Content-Range", "bytes \(start)-\(data.count - 1)/\(data.count)")],
                             body: data.subdata(in: start..<data.count))
        }
        if request.method == "GET" {
            lock.withLock {
                if dropOnce.remove(etag) != nil {
                    response.dropAfter = response.body.count / 2
                } else if let earlier = dropAlways[etag] {
                    response.dropAfter = earlier == 0 ? response.body.count / 2 : 0
                    dropAlways[etag] = earlier + 1
                }
            }
        }
        return response
    }
}
