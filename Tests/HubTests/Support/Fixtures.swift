import Foundation
@testable import Hub

/// A fresh empty folder under the system temp dir, removed by `cleanUp`.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hub-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// Deterministic pseudo-random bytes (a stand-in for weights).
func bytes(_ count: Int, seed: UInt64) -> Data {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    return Data((0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    })
}

let commitA = "0123456789abcdef0123456789abcdef01234567"
let commitB = "fedcba9876543210fedcba9876543210fedcba98"

/// A small CSM-like repository: JSON files in git, the weights in LFS.
func tinyRepo(commit: String = commitA, weightBytes: Int = 300_000) -> FakeHub.Repo {
    FakeHub.Repo(
        commit: commit,
        files: [
            "config.json": Data(#"{"model_type": "csm"}"#.utf8),
            "tokenizer.json": Data(#"{"version": "1.0"}"#.utf8),
            "generation_config.json": Data(#"{"top_k": 50}"#.utf8),
            "model.safetensors": bytes(weightBytes, seed: 1),
        ],
        lfs: ["model.safetensors"]
    )
}

extension FakeHub.Repo {
    /// The LFS weights of `tinyRepo`, and the etag (their sha256) the hub serves them under.
    var weights: Data { files["model.safetensors"]! }
    var weightsEtag: String { FakeHub.etag(weights, lfs: true) }
}

/// Leaves `bytes` where a run of `org/tiny` that stopped mid-download left them (the blob's `.incomplete` file in
/// `cache`), for the next run to resume from or discard. Returns the blobs folder.
func leavePartialDownload(_ bytes: Data, etag: String, in cache: URL) throws -> URL {
    let blobs = cache.appendingPathComponent("models--org--tiny/blobs")
    try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
    try bytes.write(to: blobs.appendingPathComponent("\(etag).incomplete"))
    return blobs
}

/// Every path below `folder` whose name ends with `.incomplete`.
func incompleteFiles(under folder: URL) -> [String] {
    let walker = FileManager.default.enumerator(atPath: folder.path)
    return (walker?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".incomplete") }
}
