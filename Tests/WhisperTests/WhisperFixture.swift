import Foundation
import Torch
import TestSupport
@testable import Whisper

/// The fixture written by tools/fixtures/whisper.py: a tiny random WhisperForConditionalGeneration folder, four
/// clips regenerated here bit for bit, and what transformers computes on them.
enum WhisperFixture {
    static let root = fixturesFolder.appendingPathComponent("whisper")
    static let modelFolder = root.appendingPathComponent("model")

    struct Case: Decodable {
        let name: String
        let seed: UInt64
        let samples: Int
        let period: Int
        let storedFrames: Int
        let tailValue: Double
        let tailValueNumpy: Double
        let signalSum: Double
        let signalHead: [Float]

        enum CodingKeys: String, CodingKey {
            case name, seed, samples, period
            case storedFrames = "stored_frames", tailValue = "tail_value", tailValueNumpy = "tail_value_numpy"
            case signalSum = "signal_sum", signalHead = "signal_head"
        }
    }

    /// One `generate` call over all clips: `language` nil is detection.
    struct Run: Decodable {
        let language: String?
        let tokens: [[Int]]
        let texts: [String]
        let detectedLanguageIds: [Int]?
        let minArgmaxMargin: Double

        enum CodingKeys: String, CodingKey {
            case language, tokens, texts
            case detectedLanguageIds = "detected_language_ids", minArgmaxMargin = "min_argmax_margin"
        }
    }

    struct Decode: Decodable {
        let ids: [Int]
        let text: String
    }

    struct Contents: Decodable {
        let sampleRate: Int
        let encoderStride: Int
        let featureStride: Int
        let cases: [Case]
        let runs: [Run]
        let decodes: [Decode]

        enum CodingKeys: String, CodingKey {
            case sampleRate = "sample_rate", encoderStride = "encoder_stride", featureStride = "feature_stride"
            case cases, runs, decodes
        }
    }

    static let contents: Contents = {
        let data = try! Data(contentsOf: root.appendingPathComponent("cases.json"))
        return try! JSONDecoder().decode(Contents.self, from: data)
    }()

    static var cases: [Case] { contents.cases }

    /// Loaded once: tests share it (read-only).
    nonisolated(unsafe) static let transcriber: WhisperTranscriber = try! WhisperTranscriber(folder: modelFolder)

    nonisolated(unsafe) static let expected: WeightStore =
        try! WeightStore(files: [root.appendingPathComponent("expected.safetensors").path])

    static let clips: [[Float]] = cases.map { signal(seed: $0.seed, count: $0.samples, period: $0.period) }

    /// `signal` of tools/fixtures/whisper.py, bit for bit: LCG noise plus a sawtooth of `period` samples, gated per
    /// 0.1 s block, with exact or single correctly rounded float32 operations only.
    static func signal(seed: UInt64, count: Int, period: Int) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        let gains: [Float] = [0.05, 0.2, 0.6, 0.35]
        let half: Float = 0.5
        return (0..<count).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Float(state >> 40) / Float(1 << 24)
            let saw = Float(i % period) / Float(period)
            let gain = gains[(i / 1600 + Int(seed)) % 4]
            let centered = noise - half
            let tooth = saw - half
            return gain * (half * centered + tooth)
        }
    }

    /// max |a − b| over max |b|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
        let scale = b.reduce(0) { max($0, abs(Double($1))) }
        return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) } / max(scale, 1e-30)
    }

    static func maxAbsError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
        return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
    }
}

/// Bounds against transformers, each with why it holds on any x86-64 CPU.
enum Tolerance {
    /// Log-mel features (absolute; they lie in about [−1, 2]): one f32 STFT, a 201×80 f32 product and log10; f32
    /// rounding of the power spectrum is ~1e-7 relative, which log10/4 turns into ~1e-8 absolute. WhisperFeatureExtractor
    /// documents 1e-5 agreement of its own torch and numpy paths; the issue asks for 1e-4.
    static let features = 1e-4
    /// Encoder states and decoder logits, relative to the largest magnitude: two conv layers and 2+2 transformer
    /// layers in f32, whose GEMM and SDPA kernels differ by ~1e-7 relative per op between instruction sets; 1e-4.
    static let states = 1e-4
    /// Greedy ids are compared exactly only when transformers' smallest argmax margin (recorded by the fixture on
    /// suppressed teacher-forced logits) is far above the logits' error: 1e-4 relative of logits up to ~30 is
    /// 3e-3, so margins above 1e-2 cannot flip.
    static let argmaxMargin = 1e-2
    /// The regenerated clips' sums against numpy's (f64 sums of the same f32 samples; only the order differs).
    static let signalSum = 1e-9
}
