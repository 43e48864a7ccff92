import Crypto
import Foundation
import Testing
@testable import Hub

/// LFS files are checked against the sha256 the hub gives as their etag, hashed while they stream in.
@Suite struct ChecksumTests {
    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    @Test func aBlobMatchingItsSha256EtagIsKept() throws {
        let repo = tinyRepo()
        let hub = try FakeHub(["org/tiny": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let (weights, etag) = (repo.weights, repo.weightsEtag)
        #expect(etag == Self.sha256(weights))

        let folder = try resolveModel("org/tiny", files: ["model.safetensors"],
                                      configuration: hub.configuration(cache: temp.url))
        let blob = temp.url.appendingPathComponent("models--org--tiny/blobs/\(etag)")
        #expect(FileManager.default.contents(atPath: blob.path) == weights)
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("model.safetensors").path) == weights)
    }

    @Test func aCorruptedBodyIsRefusedAndNothingLandsInTheCache() throws {
        let repo = tinyRepo()
        let hub = try FakeHub(["org/tiny": repo])
        let (weights, etag) = (repo.weights, repo.weightsEtag)
        hub.corrupt(etag)
        var sent = weights
        sent[sent.count / 3] ^= 0xFF
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }

        #expect {
            try resolveModel("org/tiny", files: ["model.safetensors"], configuration: hub.configuration(cache: temp.url))
        } throws: { error in
            let message = "\(error)"
            return error as? HubError == .checksumMismatch(file: "org/tiny/model.safetensors", expected: etag,
                                                            received: Self.sha256(sent))
                && message.contains("org/tiny/model.safetensors") && message.contains(etag)
                && message.contains(Self.sha256(sent)) && message.contains("run again")
        }
        let storage = temp.url.appendingPathComponent("models--org--tiny")
        #expect(Self.files(in: storage.appendingPathComponent("blobs")).isEmpty)
        #expect(Self.files(in: storage.appendingPathComponent("snapshots")).isEmpty)
        #expect(incompleteFiles(under: temp.url).isEmpty)

        // Nothing stale is left to trip the next run: from a sound server it downloads and keeps the file.
        let sound = try FakeHub(["org/tiny": repo])
        let folder = try resolveModel("org/tiny", files: ["model.safetensors"],
                                      configuration: sound.configuration(cache: temp.url))
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("model.safetensors").path) == weights)
        #expect(sound.cdn.requests.map { $0.headers["range"] } == [nil])
    }

    /// Bytes kept from an earlier run count too: a wrong prefix fails the check even though this run's bytes are
    /// right, and is discarded.
    @Test func aWrongPartialFileFromAnEarlierRunIsCaughtAndDiscarded() throws {
        let repo = tinyRepo()
        let hub = try FakeHub(["org/tiny": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let blobs = try leavePartialDownload(Data(repeating: 7, count: 1000), etag: repo.weightsEtag, in: temp.url)

        #expect(throws: HubError.self) {
            try resolveModel("org/tiny", files: ["model.safetensors"], configuration: hub.configuration(cache: temp.url))
        }
        #expect(hub.cdn.requests.map { $0.headers["range"] } == ["bytes=1000-"])
        #expect(Self.files(in: blobs).isEmpty)
    }

    static func files(in folder: URL) -> [String] {
        (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? [])
            .filter { !$0.hasPrefix(".") }
    }
}
