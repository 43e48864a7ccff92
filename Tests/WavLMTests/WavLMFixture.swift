import Foundation
import TestSupport
import Torch
@testable import WavLM

/// Tests/Fixtures/wavlm, written by tools/fixtures/wavlm.py: two tiny random WavLMForXVector folders (`group`,
/// `layer`) and transformers' outputs on four clips (`expected.safetensors`, `cases.json`).
enum WavLMFixture {
    static let folder = fixturesFolder.appendingPathComponent("wavlm")
    static let expected = try! WeightStore(files: [folder.appendingPathComponent("expected.safetensors").path])
    static let models = ["group", "layer"]
    static let clips = ["a", "b", "c", "d24k"]

    static func sampleRate(_ clip: String) -> Int { clip.hasSuffix("24k") ? 24_000 : 16_000 }

    static func audio(_ clip: String) throws -> [Float] { try expected.tensor("clip.\(clip)").toArray(Float.self) }

    static func encoder(_ model: String) throws -> SpeakerEncoder {
        try SpeakerEncoder(folder: folder.appendingPathComponent(model))
    }

    /// The largest |ours − theirs| over max |theirs|.
    static func relativeError(_ ours: [Float], _ theirs: [Float]) -> Double {
        let scale = theirs.map { abs(Double($0)) }.max() ?? 1
        return zip(ours, theirs).map { abs(Double($0) - Double($1)) }.max()! / max(scale, 1e-30)
    }
}

/// Bounds for comparisons with transformers' f32 outputs; each holds on any x86-64 CPU (AVX2 … AMX kernels).
enum Tolerance {
    /// x-vectors pass ~10 layers of f32 GEMMs/convs whose kernels sum in different orders per instruction set.
    static let embedding = 1e-4
    /// Cosines of normalised vectors near 1: rounding of unit vectors, far below any meaningful difference.
    static let cosine = 1e-5
    /// The model's input (resampling is libsoxr on both sides; normalisation differs in summation order).
    static let inputValues = 1e-5
    /// Encoder hidden states before the head; same argument as `embedding`.
    static let hiddenStates = 1e-4
    /// A clip batched with longer ones against the clip alone: masked statistics, padded keys −inf, same kernels.
    static let batchedVsAlone = 1e-5
}
