import Foundation
import Testing
import Torch
@testable import Dataset
import TestSupport

@Suite struct FingerprintTests {
    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(SHA256.hex(Array(long.utf8)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in odd pieces, the digest is the same.
        var h = SHA256()
        for piece in ["abcdbcdecdefdefgefghfgh", "ighijhijk", "ijkljklmklmnlmnomnopnopq"] { h.update(piece) }
        #expect(h.finalize() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// A model folder: the tiny CSM checkpoint plus the tokenizer fixture.
    func modelFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("csm-fp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (dir, name) in [("csm/tiny", "config.json"), ("csm/tiny", "model.safetensors"), ("tokenizer", "tokenizer.json"),
                            ("tokenizer", "tokenizer_config.json"), ("tokenizer", "special_tokens_map.json")] {
            try FileManager.default.copyItem(at: fixturesFolder.appendingPathComponent(dir).appendingPathComponent(name),
                                             to: folder.appendingPathComponent(name))
        }
        return folder
    }

    @Test func codecFingerprintFollowsTheCodecWeightsOnly() throws {
        let folder = try modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = try Fingerprint.of(modelFolder: folder)
        #expect(try Fingerprint.of(modelFolder: folder) == before)

        let url = folder.appendingPathComponent("model.safetensors")
        var weights = try Safetensors.read(url)
        let codecKey = weights.keys.sorted().first { $0.hasPrefix("codec_model.") }!
        let backboneKey = weights.keys.sorted().first { !$0.hasPrefix("codec_model.") }!
        weights[backboneKey] = try weights[backboneKey]! * 2
        try Safetensors.write(weights, to: url)
        #expect(try Fingerprint.of(modelFolder: folder) == before)  // not the codec

        weights[codecKey] = try weights[codecKey]! + 1
        try Safetensors.write(weights, to: url)
        let after = try Fingerprint.of(modelFolder: folder)
        #expect(after.codec != before.codec && after.tokenizer == before.tokenizer)
    }

    @Test func textSpellingAnAudioTokenIsSkipped() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        try corpus.script("en", "a", "[1]: hello there\n[2]: a <|AUDIO|> inside\n")
        try corpus.wav("en", "a", "001_speaker1.wav", seconds: 1, peak: 0.2)
        try corpus.wav("en", "a", "002_speaker2.wav", seconds: 1, peak: 0.3)
        let options = PreprocessOptions(inputPath: corpus.root.path)
        let p = Preprocessor(options: options, fingerprint: Fingerprint(tokenizer: "", codec: ""),
                             tokenizer: try CSMTurnText(folder: fixturesFolder.appendingPathComponent("tokenizer")),
                             codec: FakeCodec())
        p.progressStyle = .silent
        let out = corpus.root.appendingPathComponent("_out")
        let report = try p.run(output: out)
        #expect(report.skips.map(\.code) == ["unusable_text"] && report.segmentsKept == 1)
        #expect(report.skips.first?.reason.contains("<|AUDIO|>") == true)

        let data = try PreprocessedDataset(out)
        try data.requireFingerprint(Fingerprint(tokenizer: "", codec: ""))
        #expect(throws: DatasetError.self) { try data.requireFingerprint(Fingerprint(tokenizer: "", codec: "x")) }
    }
}
