import Foundation
import Testing
import TestSupport
@testable import Hub

/// What our Hub module puts in a Hugging Face cache, read back by `huggingface_hub` itself (tools/checks/hub_cache.py
/// in the pinned Python stack): `try_to_load_from_cache` and `hf_hub_download(local_files_only=True)` find every file
/// with the bytes the server sent, the remembered 404 reads as `_CACHED_NO_EXIST`, and `scan_cache_dir` lists the repo
/// without warnings.
@Suite(.enabled(if: PythonChecks.isAvailable, "tools/.venv missing: run make venv"))
struct HubCacheInteropTests {
    @Test func huggingfaceHubFindsWhatWeDownloaded() throws {
        var repo = tinyRepo()
        repo.files["nested/dir/notes.txt"] = Data("a file below the repo root\n".utf8)
        let hub = try FakeHub(["org/tiny": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let cache = temp.url.appendingPathComponent("hub")
        _ = try resolveModel("org/tiny", files: ["config.json", "model.safetensors", "nested/dir/notes.txt"],
                             optional: ["tokenizer.json", "generation_config.json", "absent.json"],
                             configuration: hub.configuration(cache: cache))

        // The files as the server sent them, for the check to compare with.
        let expected = temp.url.appendingPathComponent("expected")
        for (name, data) in repo.files {
            let url = expected.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        let r = try PythonChecks.run("hub_cache", ["--cache", cache.path, "--repo", "org/tiny", "--expected", expected.path,
                                                   "--revision", commitA, "--absent", "absent.json"])
        #expect(r.status == 0, "tools/checks/hub_cache.py:\n\(r.output)")
        #expect(r.output.contains("checked 5 files") && r.output.contains("1 cached 404s"), "\(r.output)")
        print(r.output)
    }

    /// The check is not blind: a blob whose bytes differ from the server's, and a stray file at the top of the
    /// cache, both fail it.
    @Test func theCheckFailsOnAWrongBlobAndOnAStrayFile() throws {
        let repo = tinyRepo(weightBytes: 1_000)
        let hub = try FakeHub(["org/tiny": repo])
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let cache = temp.url.appendingPathComponent("hub")
        _ = try resolveModel("org/tiny", files: ["config.json"], configuration: hub.configuration(cache: cache))
        let expected = temp.url.appendingPathComponent("expected")
        try FileManager.default.createDirectory(at: expected, withIntermediateDirectories: true)
        try Data(#"{"model_type": "not csm"}"#.utf8).write(to: expected.appendingPathComponent("config.json"))
        try Data("stray".utf8).write(to: cache.appendingPathComponent("models--stray"))
        let r = try PythonChecks.run("hub_cache", ["--cache", cache.path, "--repo", "org/tiny", "--expected", expected.path])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("other bytes than the server sent"), "\(r.output)")
        #expect(r.output.contains("scan_cache_dir warning"), "\(r.output)")
    }
}
