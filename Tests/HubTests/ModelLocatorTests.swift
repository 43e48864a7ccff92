import Foundation
import Testing
@testable import Hub

@Suite struct ModelLocatorTests {
    @Test func aShardedCheckpointPullsTheIndexAndEveryShard() throws {
        let shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        let index = """
            {"metadata": {"total_size": 3000}, "weight_map": {
              "a.weight": "\(shards[0])", "b.weight": "\(shards[1])", "c.weight": "\(shards[0])"}}
            """
        var repo = tinyRepo()
        repo.files["model.safetensors"] = nil
        repo.files["model.safetensors.index.json"] = Data(index.utf8)
        repo.files[shards[0]] = bytes(2000, seed: 7)
        repo.files[shards[1]] = bytes(1000, seed: 8)
        repo.lfs = Set(shards)
        let hub = try FakeHub(["org/sharded": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let configuration = hub.configuration(cache: temp.url)

        let folder = try ModelLocator.resolve("org/sharded", configuration: configuration)

        let present = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(present == (["config.json", "generation_config.json", "model.safetensors.index.json", "tokenizer.json"]
                                + shards).sorted())
        for shard in shards {
            #expect(FileManager.default.contents(atPath: folder.appendingPathComponent(shard).path) == repo.files[shard])
        }
        #expect(!hub.hub.requests.contains { $0.path.hasSuffix("/model.safetensors") })
        // The optional files this repo lacks are remembered, so the next call is answered from the cache alone.
        let noExist = temp.url.appendingPathComponent("models--org--sharded/.no_exist/\(commitA)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: noExist.path).sorted() == [
            "chat_template.jinja", "preprocessor_config.json", "processor_config.json", "special_tokens_map.json",
            "tokenizer_config.json",
        ])
        let requests = hub.requestCount
        #expect(try ModelLocator.resolve("org/sharded", configuration: configuration) == folder)
        #expect(hub.requestCount == requests)
    }

    @Test func aSingleFileCheckpointPullsModelSafetensors() throws {
        let repo = tinyRepo()
        let hub = try FakeHub(["org/tiny": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let folder = try ModelLocator.resolve("org/tiny", configuration: hub.configuration(cache: temp.url))
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("model.safetensors").path)
                    == repo.files["model.safetensors"])
    }

    @Test func aBrokenIndexIsReported() throws {
        var repo = tinyRepo()
        repo.files["model.safetensors.index.json"] = Data(#"{"weight_map": {"a": "../../etc/passwd"}}"#.utf8)
        let hub = try FakeHub(["org/bad": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let index = temp.url.appendingPathComponent("models--org--bad/snapshots/\(commitA)/model.safetensors.index.json")
        #expect(throws: HubError.invalidIndex(file: index.path,
                                              reason: "shard '../../etc/passwd' is not a .safetensors file name")) {
            try ModelLocator.resolve("org/bad", configuration: hub.configuration(cache: temp.url))
        }
    }
}
