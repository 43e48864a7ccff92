import Foundation
import Testing
@testable import Hub

@Suite struct DownloadTests {
    @Test func freshDownloadWritesTheHuggingFaceCacheLayout() throws {
        let repo = tinyRepo()
        let hub = try FakeHub(["org/tiny": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let cache = temp.url.appendingPathComponent("hub")

        let folder = try resolveModel("org/tiny", files: ["config.json", "model.safetensors"],
                                      optional: ["tokenizer.json", "absent.json"],
                                      configuration: hub.configuration(cache: cache))

        let storage = cache.appendingPathComponent("models--org--tiny")
        #expect(folder.path == storage.appendingPathComponent("snapshots/\(commitA)").path)
        #expect(try String(contentsOf: storage.appendingPathComponent("refs/main"), encoding: .utf8) == commitA)
        let fm = FileManager.default
        for (file, lfs) in [("config.json", false), ("model.safetensors", true), ("tokenizer.json", false)] {
            let etag = FakeHub.etag(repo.files[file]!, lfs: lfs)
            let link = folder.appendingPathComponent(file).path
            #expect(try fm.destinationOfSymbolicLink(atPath: link) == "../../blobs/\(etag)")
            #expect(fm.contents(atPath: storage.appendingPathComponent("blobs/\(etag)").path) == repo.files[file])
            #expect(fm.contents(atPath: link) == repo.files[file])
        }
        // Only what was asked for, plus the remembered 404.
        #expect(try fm.contentsOfDirectory(atPath: folder.path).sorted()
                    == ["config.json", "model.safetensors", "tokenizer.json"])
        #expect(try fm.contentsOfDirectory(atPath: storage.appendingPathComponent("blobs").path).count == 3)
        #expect(fm.fileExists(atPath: storage.appendingPathComponent(".no_exist/\(commitA)/absent.json").path))
        #expect(fm.fileExists(atPath: cache.appendingPathComponent("CACHEDIR.TAG").path))
        #expect(incompleteFiles(under: cache).isEmpty)
        // The weights came from the CDN after the hub's redirect; git files straight from the hub.
        #expect(hub.cdn.requests.map(\.method) == ["GET"])
        #expect(hub.hub.requests.filter { $0.method == "GET" }.map(\.path).sorted()
                    == ["/org/tiny/resolve/\(commitA)/config.json", "/org/tiny/resolve/\(commitA)/tokenizer.json"])
    }

    @Test func aCompleteCacheAnswersWithoutAnyRequest() throws {
        let hub = try FakeHub(["org/tiny": tinyRepo()])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let configuration = hub.configuration(cache: temp.url)
        let first = try resolveModel("org/tiny", files: ["config.json", "model.safetensors"],
                                     optional: ["absent.json"], configuration: configuration)
        let requests = hub.requestCount
        #expect(requests > 0)

        let second = try resolveModel("org/tiny", files: ["config.json", "model.safetensors"],
                                      optional: ["absent.json"], configuration: configuration)
        #expect(second == first)
        #expect(hub.requestCount == requests)

        // Pinned to the commit, and offline, the same snapshot comes back, also without a request.
        var offline = configuration
        offline.offline = true
        #expect(try resolveModel("org/tiny@\(commitA)", files: ["config.json"], configuration: offline) == first)
        #expect(try resolveModel("org/tiny", files: ["config.json", "model.safetensors"], configuration: offline)
                    == first)
        #expect(hub.requestCount == requests)
    }

    @Test func aDroppedConnectionIsResumedWithARangeRequest() throws {
        let repo = tinyRepo(weightBytes: 400_000)
        let hub = try FakeHub(["org/tiny": repo])
        hub.dropFirstDownload(of: repo.weightsEtag)
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }

        let folder = try resolveModel("org/tiny", files: ["model.safetensors"],
                                      configuration: hub.configuration(cache: temp.url))

        let gets = hub.cdn.requests.filter { $0.method == "GET" }
        #expect(gets.count == 2)
        #expect(gets.first?.headers["range"] == nil)
        #expect(gets.last?.headers["range"] == "bytes=200000-")
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("model.safetensors").path)
                    == repo.weights)
        #expect(incompleteFiles(under: temp.url).isEmpty)
    }

    @Test func aPartialFileFromAnEarlierRunIsResumed() throws {
        let repo = tinyRepo()
        let hub = try FakeHub(["org/tiny": repo])
        let (weights, etag) = (repo.weights, repo.weightsEtag)
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let blobs = try leavePartialDownload(weights.prefix(123_456), etag: etag, in: temp.url)

        let folder = try resolveModel("org/tiny", files: ["model.safetensors"],
                                      configuration: hub.configuration(cache: temp.url))

        #expect(hub.cdn.requests.map { $0.headers["range"] } == ["bytes=123456-"])
        #expect(FileManager.default.contents(atPath: blobs.appendingPathComponent(etag).path) == weights)
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("model.safetensors").path)
                    == weights)
        #expect(incompleteFiles(under: temp.url).isEmpty)
    }

    @Test func aServerIgnoringTheRangeRestartsTheFileInsteadOfCorruptingIt() throws {
        let repo = tinyRepo()
        let hub = try FakeHub(["org/tiny": repo])
        hub.ignoreRanges()
        let (weights, etag) = (repo.weights, repo.weightsEtag)
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let blobs = try leavePartialDownload(weights.prefix(1000), etag: etag, in: temp.url)

        _ = try resolveModel("org/tiny", files: ["model.safetensors"], configuration: hub.configuration(cache: temp.url))

        #expect(hub.cdn.requests.map { $0.headers["range"] } == ["bytes=1000-"])
        #expect(FileManager.default.contents(atPath: blobs.appendingPathComponent(etag).path) == weights)
    }

    @Test func aDownloadThatNeverCompletesLeavesNoFileUnderItsFinalName() throws {
        let repo = tinyRepo()
        let hub = try FakeHub(["org/tiny": repo])
        let etag = repo.weightsEtag
        hub.dropEveryDownload(of: etag)
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }

        #expect {
            try resolveModel("org/tiny", files: ["config.json", "model.safetensors"],
                             configuration: hub.configuration(cache: temp.url))
        } throws: { error in
            guard case HubError.network(let url, _, let cache)? = error as? HubError else { return false }
            return url.contains(etag) && cache == temp.url.path
                && "\(error)".contains("HF_HUB_OFFLINE") && "\(error)".contains("run again")
        }
        let storage = temp.url.appendingPathComponent("models--org--tiny")
        let fm = FileManager.default
        #expect(!fm.fileExists(atPath: storage.appendingPathComponent("blobs/\(etag)").path))
        #expect(!fm.fileExists(atPath: storage.appendingPathComponent("snapshots/\(commitA)/model.safetensors").path))
        // What did arrive is kept for the next run, under the .incomplete name only; every resume asked a range.
        #expect(incompleteFiles(under: temp.url) == ["models--org--tiny/blobs/\(etag).incomplete"])
        #expect(fm.contents(atPath: storage.appendingPathComponent("blobs/\(etag).incomplete").path)
                    == repo.weights.prefix(150_000))
        let gets = hub.cdn.requests
        #expect(gets.count == 4)
        #expect(gets.dropFirst().allSatisfy { $0.headers["range"] != nil })
    }

    @Test func aMovedBranchIsFollowedAndKnownBlobsAreLinkedNotDownloaded() throws {
        let hub = try FakeHub(["org/tiny": tinyRepo()])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let configuration = hub.configuration(cache: temp.url)
        _ = try resolveModel("org/tiny", files: ["config.json", "model.safetensors"], configuration: configuration)

        // A new commit on main adds a file; asking for it moves refs/main and builds the new snapshot, reusing the
        // weights blob (same etag) without a second download.
        hub.update("org/tiny") {
            $0.commit = commitB
            $0.files["tokenizer_config.json"] = Data("{}".utf8)
        }
        let cdnBefore = hub.cdn.requests.count
        let hubBefore = hub.hub.requests.count
        let folder = try resolveModel("org/tiny", files: ["config.json", "model.safetensors", "tokenizer_config.json"],
                                      configuration: configuration)
        #expect(folder.lastPathComponent == commitB)
        #expect(try String(contentsOf: temp.url.appendingPathComponent("models--org--tiny/refs/main"),
                           encoding: .utf8) == commitB)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
                    == ["config.json", "model.safetensors", "tokenizer_config.json"])
        #expect(hub.cdn.requests.count == cdnBefore)
        // Every HEAD after the first asked for the pinned commit, never the moving branch.
        let heads = hub.hub.requests[hubBefore...].filter { $0.method == "HEAD" }
        #expect(heads.first?.path == "/org/tiny/resolve/main/config.json")
        #expect(heads.count == 3 && heads.dropFirst().allSatisfy { $0.path.contains("/resolve/\(commitB)/") })
    }
}
