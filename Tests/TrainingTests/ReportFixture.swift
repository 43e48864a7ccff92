import Foundation
@testable import Training

/// A finished run's folder made by hand: metrics.jsonl, two sample wavs, a preprocessed set's
/// report.json + manifest.json, and a --gen_from folder. What `TrainingReport` reads, nothing else.
struct ReportFixture {
    let root: URL
    var output: URL { root.appendingPathComponent("out") }
    var preprocessed: URL { root.appendingPathComponent("prep") }
    var genFrom: URL { root.appendingPathComponent("example_gen") }

    var config: TrainConfig {
        var c = TrainConfig()
        c.outputDir = output.path
        c.preprocessedPath = preprocessed.path
        c.genFrom = genFrom.path
        c.maxSteps = 40
        c.modelId = "Tests/Fixtures/demo-model"
        return c
    }

    /// `steps` rows of a plausible run (losses falling, lr warming up then decaying), validation every
    /// `valEvery` steps (0: none); `extraLines` are appended raw.
    init(steps: Int = 40, valEvery: Int = 10, extraLines: [String] = []) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        let fm = FileManager.default
        for dir in [output, preprocessed, genFrom.appendingPathComponent("segments")] {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        var lines: [String] = []
        for step in 1 ... steps {
            let s = Double(step)
            var row: [String: Any] = [
                "step": step, "epoch": s / 20, "backbone_loss": 4.2 * exp(-s / 25) + 0.8, "depth_loss": 3.9 * exp(-s / 30) + 1.1,
                "lr": 2e-4 * min(s / 5, (Double(steps) - s + 1) / Double(steps - 4)), "grad_norm": 2.5 / sqrt(s),
                "tokens_per_s": 900 + 40 * sin(s), "s_per_step": 0.5, "peak_rss_mb": 300 + s,
            ]
            row["loss"] = (row["backbone_loss"] as! Double) + (row["depth_loss"] as! Double)
            if valEvery > 0, step % valEvery == 0 {
                row["val_backbone_loss"] = 4.4 * exp(-s / 28) + 0.9
                row["val_depth_loss"] = 4.0 * exp(-s / 32) + 1.2
                row["val_loss"] = (row["val_backbone_loss"] as! Double) + (row["val_depth_loss"] as! Double)
            }
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: row, options: .sortedKeys), as: UTF8.self))
        }
        try (lines + extraLines).map { $0 + "\n" }.joined().write(to: output.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        for step in [20, 40] {
            try Self.wav(seconds: 0.5 + Double(step) / 80).write(to: output.appendingPathComponent(String(format: "gen_step_%06d.wav", step)))
        }
        try Data("{}".utf8).write(to: output.appendingPathComponent("adapter_config.json"))
        try fm.createDirectory(at: output.appendingPathComponent("checkpoint-20"), withIntermediateDirectories: true)
        try "[1]: Hello there, how was your trip?\n[2]: It was long.\n\n[1]: I would love to see <some> photos & more.\n"
            .write(to: genFrom.appendingPathComponent("segments/script.txt"), atomically: true, encoding: .utf8)
        try Self.reportJSON.write(to: preprocessed.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)
        try Self.manifestJSON.write(to: preprocessed.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// 16-bit mono PCM at 24 kHz: a quiet tone.
    static func wav(seconds: Double) -> Data {
        let n = Int(seconds * 24000)
        var d = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(36 + 2 * n); d.append(contentsOf: Array("WAVEfmt ".utf8))
        u32(16); u16(1); u16(1); u32(24000); u32(48000); u16(2); u16(16)
        d.append(contentsOf: Array("data".utf8)); u32(2 * n)
        for i in 0 ..< n { u16(Int(Int16(3000 * sin(Double(i) * 0.05))) & 0xffff) }
        return d
    }

    static let reportJSON = """
        {"conversations_found": 7, "conversations_written": 6, "segments_kept": 57, "samples": 57, "audio_seconds": 171.5,
         "skips_by_reason": {"count_mismatch": 1},
         "skips": [{"conversation": "en/zz_broken_conversation", "code": "count_mismatch",
                    "reason": "the script has 3 line(s) but there are 2 NNN_speakerK.wav file(s); they must pair one to one"}]}
        """

    static let manifestJSON = """
        {"settings": {"format": "csm-swift.preprocessed", "format_version": 1,
                      "fingerprint": {"tokenizer": "ab", "codec": "cd"},
                      "arguments": {"input_path": "/data/raw", "model_id": "demo", "num_context_turns": 3,
                                    "max_audio_seconds": 10, "min_audio_seconds": 0.5, "text_max_length": 256}},
         "num_codebooks": 8, "total_audio_seconds": 12.5, "samples": [],
         "conversations": [
           {"id": "de/bahnhof", "signature": "x", "shard": "shards/0.safetensors", "skips": [],
            "segments": [{"file": "001_speaker1.wav", "number": 1, "speaker": 0, "duration": 3.5, "frames": 44, "text_ids": 17},
                         {"file": "002_speaker2.wav", "number": 2, "speaker": 1, "duration": 4.0, "frames": 50, "text_ids": 20}]},
           {"id": "en/coffee_shop", "signature": "y", "shard": "shards/1.safetensors", "skips": [],
            "segments": [{"file": "001_speaker1.wav", "number": 1, "speaker": 0, "duration": 5.0, "frames": 63, "text_ids": 15}]}]}
        """
}
