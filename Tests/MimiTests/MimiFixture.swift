import Foundation
@testable import Mimi
import Torch
import TestSupport

/// The fixture written by tools/fixtures/mimi.py: a tiny random MimiModel folder and transformers' outputs.
enum MimiFixture {
    static let root = fixturesFolder.appendingPathComponent("mimi")
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

/// Every bound this target's suites compare under, declared once, with why it holds on any x86-64 CPU with AVX2
/// or better (ATen, oneDNN and MKL pick CPU kernels per instruction set, so floats differ in the last bits).
enum Tolerance {
    /// Fraction of transformers' codes ours may differ in: a code is an argmin over codeword distances, and a
    /// near-tie (the 30 s case has 12,000 codes) can flip on a last-bit difference of the latents; 1e-3.
    static let codeMismatch = 1e-3
    /// Encoder latents against transformers (absolute; they reach ~11 on this random codec, so ~1e-5 relative):
    /// SEANet convs and 2 transformer layers in f32, oneDNN/MKL kernels differ by ~1e-7 relative per op across
    /// instruction sets; 1e-4.
    static let latents = 1e-4
    /// Decoded audio against transformers (absolute; this random codec decodes to values up to ~55, so 1e-4 is
    /// ~5e-6 relative at 3e-4): the same depth of f32 convs and attention as the encoder, in reverse, and the error
    /// grows with clip length; measured 4.2e-5 under AVX2 and default kernels, so 3e-4 for other instruction sets.
    static let decoded = 3e-4
    /// Chunked SEANet against the whole-clip run: same machine, same convs on shorter inputs (oneDNN may block
    /// them differently); outputs reach ~9 (1e-5 is ~8 ulps there): measured 7.2e-6, so 5e-5 absolute.
    static let chunked = 5e-5
    /// A stream's decode against the whole-clip decode of the same codes (absolute; these random codecs decode to
    /// values up to ~50, where a float32 ulp is 3.8e-6): the same convs on shorter inputs (oneDNN may block and sum
    /// them in another order) and the transposed convs' overlap added in two parts. Measured ≤ 5.5e-5 (upsample
    /// and transformer 3.8e-6, the rest from the SEANet decoder's convs); 1e-4 is the bar the streaming API promises.
    static let streamed = 1e-4
    /// Share of a code's margin (the gap between its codeword's squared distance and any other's) that our
    /// latents' difference from transformers' uses: a code flips at 1. At most a quarter here means a CPU whose
    /// latents differ 4× as much still gives every code, so exact code comparisons on these clips are robust.
    static let codeMarginUsed = 0.25
    /// Sum of the generated test signal against Python's: exact f32 samples summed in f64 in the same order, so
    /// only the JSON round trip of the sum can differ (one f64 ulp); 1e-9 relative.
    static let signalSum = 1e-9
}


extension MimiFixture {
    /// How much of each code's margin the difference between two sets of latents (batch 1, hidden, frames) uses:
    /// for every quantizer stage, frame and other codeword j, the change of the squared-distance gap
    /// d(j) − d(chosen) from `reference` to `latents`, over that gap (the code of `reference`, its argmin, flips
    /// when this reaches 1). Returns the largest such fraction and the smallest gap relative to the squared
    /// distance to the chosen codeword.
    static func codeMarginUse(_ model: MimiModel, latents: Tensor, reference: Tensor) throws -> (worstUse: Double, smallestGap: Double) {
        try withNoGrad {
            var worstUse = 0.0, smallestGap = Double.infinity
            let q = model.quantizer
            for (rvq, count) in [(q.semanticResidualVectorQuantizer, q.numSemanticQuantizers),
                                 (q.acousticResidualVectorQuantizer, model.numCodebooks - q.numSemanticQuantizers)] {
                let projection = try rvq.inputProj?.to(.f64)
                func rows(_ x: Tensor) throws -> Tensor {
                    let x = try x.to(.f64)
                    return try (projection.map { try x.conv1d($0) } ?? x).select(0, 0).transpose(0, 1)  // (frames, dim)
                }
                var ours = try rows(latents), theirs = try rows(reference)
                for codebook in rvq.layers.prefix(count) {
                    let embed = try codebook.embed.to(.f64)
                    let dOurs = try (ours.unsqueeze(1) - embed.unsqueeze(0)).pow(2).sum(-1)      // (frames, size)
                    let dTheirs = try (theirs.unsqueeze(1) - embed.unsqueeze(0)).pow(2).sum(-1)
                    let chosen = try dTheirs.argmin(-1)
                    let pick = { (d: Tensor) throws -> Tensor in try d.gather(1, chosen.unsqueeze(1)) }
                    let gapTheirs = try dTheirs - pick(dTheirs), gapOurs = try dOurs - pick(dOurs)
                    let other = try gapTheirs.gt(0)  // every codeword but the chosen one (and exact duplicates of it)
                    let use = try ((gapTheirs - gapOurs) / gapTheirs.clamp(min: 1e-300)).maskedFill(other.logicalNot(), 0)
                    worstUse = Swift.max(worstUse, try use.max().item())
                    let relativeGap = try (gapTheirs.maskedFill(other.logicalNot(), .infinity) / pick(dTheirs).clamp(min: 1e-300))
                    smallestGap = Swift.min(smallestGap, try relativeGap.min().item())
                    ours = try ours - embed.indexSelect(0, chosen)
                    theirs = try theirs - embed.indexSelect(0, chosen)
                }
            }
            return (worstUse, smallestGap)
        }
    }
}
