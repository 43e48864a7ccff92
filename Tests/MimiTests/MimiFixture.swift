import Foundation
import Mimi
import Torch

/// The fixture written by tools/fixtures/mimi.py: a tiny random MimiModel folder and transformers' outputs.
enum MimiFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/mimi")
    static let modelFolder = root.appendingPathComponent("model")

    struct Case: Decodable {
        let name: String
        let seed: UInt64
        let samples: Int
        let frames: Int
        let decodedSamples: Int
        let decodedStride: Int
        let signalSum: Double
        let signalHead: [Float]

        enum CodingKeys: String, CodingKey {
            case name, seed, samples, frames
            case decodedSamples = "decoded_samples", decodedStride = "decoded_stride"
            case signalSum = "signal_sum", signalHead = "signal_head"
        }
    }

    struct Cases: Decodable {
        let frameSize: Int
        let cases: [Case]
        enum CodingKeys: String, CodingKey { case frameSize = "frame_size", cases }
    }

    static let cases: [Case] = {
        let data = try! Data(contentsOf: root.appendingPathComponent("cases.json"))
        return try! JSONDecoder().decode(Cases.self, from: data).cases
    }()

    static func `case`(_ name: String) -> Case { cases.first { $0.name == name }! }

    /// Loaded once: tests share the model (read-only).
    nonisolated(unsafe) static let model: MimiModel = try! MimiModel.load(folder: modelFolder)

    nonisolated(unsafe) static let expected: WeightStore =
        try! WeightStore(files: [root.appendingPathComponent("expected.safetensors").path])

    /// `signal` of tools/fixtures/mimi.py, bit for bit: LCG noise plus a sawtooth, gated per 0.1 s block,
    /// using only exact or single correctly rounded float32 operations.
    static func signal(seed: UInt64, count: Int) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        let gains: [Float] = [0.05, 0.2, 0.6, 0.35]
        let half: Float = 0.5
        return (0..<count).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Float(state >> 40) / Float(1 << 24)
            let saw = Float(i % 97) / Float(97)
            let gain = gains[(i / 2400 + Int(seed)) % 4]
            let centered = noise - half
            let tooth = half * (saw - half)
            return gain * (centered + tooth)
        }
    }

    static func signal(_ c: Case) -> [Float] { signal(seed: c.seed, count: c.samples) }

    /// Expected codes (codebooks, frames) of a case as nested arrays.
    static func codes(_ c: Case) throws -> [[Int]] {
        let t = try expected.tensor("\(c.name).codes")
        let values = try t.toArray(Int.self)
        let (k, frames) = (t.size(0), t.size(1))
        return (0..<k).map { Array(values[($0 * frames)..<(($0 + 1) * frames)]) }
    }
}
