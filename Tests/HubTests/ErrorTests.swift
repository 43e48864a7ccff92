import Foundation
import TestSupport
import Testing
@testable import Hub

@Suite struct ErrorTests {
    @Test func aGatedRepoNeedsTheTokenWhichNeverReachesTheCDN() throws {
        var repo = tinyRepo()
        repo.token = "hf_secret"
        let hub = try FakeHub(["org/gated": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let files = ["config.json", "model.safetensors"]

        #expect(throws: HubError.accessDenied(repo: "org/gated", status: 401, gated: true, tokenSent: false)) {
            try resolveModel("org/gated", files: files, configuration: hub.configuration(cache: temp.url))
        }
        let denied = HubError.accessDenied(repo: "org/gated", status: 401, gated: true, tokenSent: false)
        #expect(denied.description.contains("HF_TOKEN"))
        #expect(throws: HubError.accessDenied(repo: "org/gated", status: 403, gated: true, tokenSent: true)) {
            try resolveModel("org/gated", files: files,
                             configuration: hub.configuration(cache: temp.url, token: "hf_wrong"))
        }

        let before = hub.hub.requests.count
        let folder = try resolveModel("org/gated", files: files,
                                      configuration: hub.configuration(cache: temp.url, token: "hf_secret"))
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("model.safetensors").path)
                    == repo.files["model.safetensors"])
        #expect(hub.hub.requests[before...].allSatisfy { $0.headers["authorization"] == "Bearer hf_secret" })
        #expect(!hub.cdn.requests.isEmpty)
        #expect(hub.cdn.requests.allSatisfy { $0.headers["authorization"] == nil })
    }

    @Test func missingReposRevisionsAndFilesAreNamed() throws {
        let hub = try FakeHub(["org/tiny": tinyRepo()])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let configuration = hub.configuration(cache: temp.url)

        #expect(throws: HubError.repoNotFound(repo: "org/nope", tokenSent: false)) {
            try resolveModel("org/nope", files: ["config.json"], configuration: configuration)
        }
        #expect(throws: HubError.revisionNotFound(repo: "org/tiny", revision: "v9")) {
            try resolveModel("org/tiny@v9", files: ["config.json"], configuration: configuration)
        }
        #expect(throws: HubError.fileNotFound(repo: "org/tiny", revision: "main", file: "weights.bin")) {
            try resolveModel("org/tiny", files: ["config.json", "weights.bin"], configuration: configuration)
        }
        // Nothing half-made: the files that did exist are in place, the missing one is not linked.
        let snapshot = temp.url.appendingPathComponent("models--org--tiny/snapshots/\(commitA)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: snapshot.path) == ["config.json"])
    }

    @Test func anUnreachableHubSaysHowToWorkOffline() throws {
        // A port that was open a moment ago and is closed now: connection refused.
        let server = try TestHTTPServer { _ in .init(status: 200) }
        let endpoint = server.baseURL
        server.stop()
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let configuration = HubConfiguration(cacheDirectory: temp.url, endpoint: endpoint, metadataTimeout: 2,
                                             retryDelay: 0.01, progress: .silent)

        #expect {
            try resolveModel("org/tiny", files: ["config.json"], configuration: configuration)
        } throws: { error in
            guard case HubError.network(let url, _, let cache)? = error as? HubError else { return false }
            return url == "\(endpoint.absoluteString)/org/tiny/resolve/main/config.json" && cache == temp.url.path
                && "\(error)".contains("HF_HUB_OFFLINE=1")
        }
    }

    @Test func aBusyHubIsRetriedThenReported() throws {
        let hub = try FakeHub(["org/tiny": tinyRepo()])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        hub.beBusy(for: 2)
        let folder = try resolveModel("org/tiny", files: ["config.json"],
                                      configuration: hub.configuration(cache: temp.url))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path))
        #expect(hub.hub.requests.map(\.method) == ["HEAD", "HEAD", "HEAD", "GET"])

        hub.beBusy(for: 3)
        #expect(throws: HubError.httpStatus(url: "\(hub.endpoint.absoluteString)/org/tiny/resolve/main/tokenizer.json",
                                            status: 503, message: nil)) {
            try resolveModel("org/tiny", files: ["tokenizer.json"], configuration: hub.configuration(cache: temp.url))
        }
    }

    @Test func anEndpointThatIsNotAHubIsReportedAsSuch() throws {
        let server = try TestHTTPServer { _ in .init(status: 200, headers: [("ETag", "\"abc\"")], body: Data("x".utf8)) }
        defer { server.stop() }
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let configuration = HubConfiguration(cacheDirectory: temp.url, endpoint: server.baseURL, retryDelay: 0.01,
                                             progress: .silent)
        #expect(throws: HubError.notAHubEndpoint(url: "\(server.baseURL.absoluteString)/org/tiny/resolve/main/c.json",
                                                 missingHeader: "X-Repo-Commit")) {
            try resolveModel("org/tiny", files: ["c.json"], configuration: configuration)
        }
    }

    @Test func anUnwritableCacheIsADiskError() throws {
        let hub = try FakeHub(["org/tiny": tinyRepo()])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        // A regular file where the cache folder should be: nothing can be created below it.
        let blocker = temp.url.appendingPathComponent("file")
        try Data().write(to: blocker)
        #expect {
            try resolveModel("org/tiny", files: ["config.json"],
                             configuration: hub.configuration(cache: blocker.appendingPathComponent("hub")))
        } throws: { error in
            guard case HubError.disk(let path, _)? = error as? HubError else { return false }
            return path.hasPrefix(blocker.path) && "\(error)".contains("HF_HUB_CACHE")
        }
    }

    @Test func offlineWithoutTheFileSaysWhichFileAndWhatToDo() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let configuration = HubConfiguration(cacheDirectory: temp.url, endpoint: URL(string: "http://127.0.0.1:9")!,
                                             offline: true, progress: .silent)
        let error = HubError.offlineFileMissing(repo: "org/tiny", file: "config.json",
                                                cache: temp.url.appendingPathComponent("models--org--tiny").path)
        #expect(throws: error) {
            try resolveModel("org/tiny", files: ["config.json", "model.safetensors"], configuration: configuration)
        }
        #expect(error.description.contains("HF_HUB_OFFLINE") && error.description.contains("hf download org/tiny"))
    }

    @Test func offlineWithAPartialCacheNamesTheMissingRequiredFile() throws {
        let hub = try FakeHub(["org/tiny": tinyRepo()])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        _ = try resolveModel("org/tiny", files: ["config.json"], configuration: hub.configuration(cache: temp.url))
        let requests = hub.requestCount
        let offline = hub.configuration(cache: temp.url, offline: true)

        #expect(throws: HubError.offlineFileMissing(repo: "org/tiny", file: "model.safetensors",
                                                    cache: temp.url.appendingPathComponent("models--org--tiny").path)) {
            try resolveModel("org/tiny", files: ["config.json", "model.safetensors"], configuration: offline)
        }
        // An optional file the cache knows nothing about is simply absent offline.
        let folder = try resolveModel("org/tiny", files: ["config.json"], optional: ["tokenizer.json"],
                                      configuration: offline)
        #expect(folder.lastPathComponent == commitA)
        #expect(hub.requestCount == requests)
    }
}
