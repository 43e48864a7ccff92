import Foundation
@testable import Mimi
import Testing
import Torch
import TestSupport

/// Batched encoding of clips of different lengths equals encoding each alone.
@Suite struct MimiBatchTests {
    /// Lengths around frame and conv-stride boundaries; the 3 s clips exceed the tiny model's 24-step
    /// (≈1 s) attention window, so the sliding-window mask matters in the batch too.
    static let lengths = [1, 2, 7, 1919, 1920, 1921, 4800, 5000, 9_599, 37_123, 72_000, 71_999]

    static func clips() -> [[Float]] {
        lengths.enumerated().map { MimiFixture.signal(seed: UInt64(100 + $0), count: $1) }
    }

    @Test func segmentsEqualOneByOne() throws {
        let model = MimiFixture.model
        let clips = Self.clips()
        let batched = try model.encode(segments: clips)
        for (i, clip) in clips.enumerated() {
            let alone = try model.encode(Tensor(clip, shape: [1, 1, clip.count])).select(0, 0)  // (k, frames)
            let frames = alone.size(1)
            #expect(batched[i].count == frames, "clip \(i): \(batched[i].count) frames, alone \(frames)")
            let values = try alone.toArray(Int.self)
            let aloneFrames = (0..<frames).map { f in (0..<32).map { values[$0 * frames + f] } }
            #expect(batched[i] == aloneFrames, "clip \(i) (\(clip.count) samples) differs from encoding it alone")
        }
    }

    /// Every batching (one big batch, small batches) gives the same codes, and they match transformers.
    @Test func segmentsMatchTransformersWhateverTheBatches() throws {
        let model = MimiFixture.model
        let cases = MimiFixture.cases.filter { $0.samples < 100_000 }
        let clips = cases.map(MimiFixture.signal)
        let oneBatch = try model.encode(segments: clips, maxBatchSamples: .max, minFill: 0)
        let tinyBatches = try model.encode(segments: clips, maxBatchSamples: 10_000)
        #expect(oneBatch == tinyBatches)
        for (c, frames) in zip(cases, oneBatch) {
            let expected = try MimiFixture.codes(c)  // (k, frames)
            let transposed = (0..<c.frames).map { f in expected.map { $0[f] } }
            #expect(frames == transposed, "\(c.name)")
        }
    }

    /// The padded tail must really be overwritten: HF's own padded batch (no masking) gets the last frame
    /// wrong, and so would we without `ValidLengths`.
    @Test func paddingWithoutMaskingWouldDiffer() throws {
        let model = MimiFixture.model
        let short = MimiFixture.signal(seed: 7, count: 5000), long = MimiFixture.signal(seed: 8, count: 20_000)
        var padded = short
        padded += [Float](repeating: 0, count: long.count - short.count)
        let audio = try Tensor(padded + long, shape: [2, 1, long.count])
        let masked = try model.encode(audio, lengths: [short.count, long.count]).select(0, 0)
        let unmasked = try model.encode(audio).select(0, 0)
        let alone = try model.encode(Tensor(short, shape: [1, 1, short.count])).select(0, 0)
        let frames = alone.size(1)
        #expect(try masked.slice(1, 0, frames).toArray(Int.self) == alone.toArray(Int.self))
        #expect(try unmasked.slice(1, 0, frames).toArray(Int.self) != alone.toArray(Int.self))
    }

    @Test func paddingMaskEqualsLengths() throws {
        let model = MimiFixture.model
        let a = MimiFixture.signal(seed: 9, count: 3000), b = MimiFixture.signal(seed: 10, count: 8000)
        let audio = try Tensor(a + [Float](repeating: 0, count: 5000) + b, shape: [2, 1, 8000])
        let mask = try Tensor((0..<8000).map { $0 < 3000 ? 1 : 0 } + [Int](repeating: 1, count: 8000), shape: [2, 8000])
        let byMask = try model.encode(audio, paddingMask: mask)
        let byLengths = try model.encode(audio, lengths: [3000, 8000])
        #expect(try byMask.toArray(Int.self) == byLengths.toArray(Int.self))
    }

    /// The SEANet run chunk by chunk (with recomputed left context) equals the whole-clip run, batched too.
    @Test func chunkedEncoderEqualsWholeClip() throws {
        let encoder = MimiFixture.model.encoder
        let a = MimiFixture.signal(seed: 11, count: 30_000), b = MimiFixture.signal(seed: 12, count: 17_777)
        let audio = try Tensor(a + b + [Float](repeating: 0, count: a.count - b.count), shape: [2, 1, a.count])
        for lengths in [nil, ValidLengths([a.count, b.count])] {
            var whole = lengths, chunked = lengths
            let expected = try withNoGrad { try encoder(audio, lengths: &whole) }
            let got = try withNoGrad { try encoder.chunked(audio, lengths: &chunked, chunkSteps: 3) }
            #expect(got.shape == expected.shape && chunked == whole)
            let valid = try expected.slice(2, 0, encoder.outputLength(b.count))  // both clips valid here
            let maxError = try (got.slice(2, 0, valid.size(2)) - valid).abs().max().item()
            #expect(parity("MimiBatchTests.chunked_\(lengths == nil ? "unmasked" : "masked")", maxError, Tolerance.chunked))
        }
        #expect(encoder.receptiveContext > encoder.hop)  // several steps of context per chunk
    }

    @Test func batchesAreSortedAndBounded() {
        let groups = MimiModel.batches(lengths: [5, 100, 50, 60, 100], maxBatchSamples: 200)
        #expect(groups == [[1, 4], [3, 2, 0]])
        #expect(MimiModel.batches(lengths: [500], maxBatchSamples: 100) == [[0]])
        #expect(MimiModel.batches(lengths: [100, 90, 70, 60], maxBatchSamples: 1000, minFill: 0.8) == [[0, 1], [2, 3]])
    }

    @Test func replicatePaddingCopiesLastValidValue() throws {
        let x = try Tensor([Float]([1, 2, 3, 4, 5, 6, 7, 8]), shape: [2, 1, 4])
        let filled = try ValidLengths([2, 4]).fillPadding(x, mode: .replicate)
        #expect(try filled.toArray(Float.self) == [1, 2, 2, 2, 5, 6, 7, 8])
        let zeroed = try ValidLengths([1, 3]).fillPadding(x, mode: .constant)
        #expect(try zeroed.toArray(Float.self) == [1, 0, 0, 0, 5, 6, 7, 0])
    }
}
