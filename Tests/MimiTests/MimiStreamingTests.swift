import Foundation
@testable import Mimi
import Testing
import Torch
import TestSupport

/// `MimiStreamingDecoder` against `MimiModel.decode`: the same codes fed a chunk at a time give the same audio.
@Suite struct MimiStreamingTests {
    /// The demo CSM's codec (a CSM folder: `codec_model.*` weights, 8 codebooks, sliding window 64).
    static let demoFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/demo-model")
    nonisolated(unsafe) static let demo: MimiModel = try! MimiModel.load(folder: demoFolder)

    /// Deterministic codes (1, k, frames) in 0..<size (an LCG, so the test needs no fixture file).
    static func codes(k: Int, frames: Int, size: Int, seed: UInt64) throws -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let values = (0..<(k * frames)).map { _ -> Int64 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(size))
        }
        return try Tensor(values, shape: [1, k, frames])
    }

    /// Streams `codes` in chunks of `sizes` (cycled) and returns the largest difference from the offline decode.
    static func streamedDifference(_ model: MimiModel, codes: Tensor, sizes: [Int]) throws -> Double {
        let offline = try model.decode(codes)
        let stream = try MimiStreamingDecoder(model: model)
        var pieces: [Tensor] = []
        var start = 0, i = 0
        while start < codes.size(2) {
            let end = min(start + sizes[i % sizes.count], codes.size(2))
            let audio = try stream.decode(codes.slice(2, start, end))
            #expect(audio.shape == [1, model.config.audioChannels, (end - start) * model.config.frameSize])
            pieces.append(audio)
            start = end
            i += 1
        }
        #expect(stream.frames == codes.size(2))
        let streamed = try Tensor.cat(pieces, dim: 2)
        #expect(streamed.shape == offline.shape)
        return try (streamed - offline).abs().max().item()
    }

    /// Chunk sizes: one frame, sizes that do not divide the length, a size past the sliding window, uneven chunks.
    static let chunkings: [[Int]] = [[1], [2], [3], [7], [16], [1, 4, 2, 9]]

    @Test(arguments: chunkings)
    func fixtureCodecStreamsAsItDecodes(sizes: [Int]) throws {
        // 20 frames (odd_37123's codes) and the first 120 of thirty_seconds': 40 and 240 transformer steps against
        // a sliding window of 24, so the cache is trimmed many times over.
        for (name, frames) in [("odd_37123", 20), ("thirty_seconds", 120)] {
            let c = MimiFixture.case(name)
            let codes = try MimiFixture.codes(c)
            let input = try Tensor(codes.flatMap { $0 }, shape: [1, codes.count, c.frames]).slice(2, 0, frames)
            let difference = try Self.streamedDifference(MimiFixture.model, codes: input, sizes: sizes)
            let label = sizes.map(String.init).joined(separator: "-")
            #expect(parity("MimiStreamingTests.\(name).chunks_\(label)", difference, Tolerance.streamed))
        }
    }

    @Test(arguments: chunkings)
    func demoCodecStreamsAsItDecodes(sizes: [Int]) throws {
        let model = Self.demo
        // 8 codebooks as CSM uses it; 100 frames (200 steps) against a window of 64.
        let codes = try Self.codes(k: model.numCodebooks, frames: 100, size: model.config.codebookSize, seed: 3)
        let difference = try Self.streamedDifference(model, codes: codes, sizes: sizes)
        let label = sizes.map(String.init).joined(separator: "-")
        #expect(parity("MimiStreamingTests.demo.chunks_\(label)", difference, Tolerance.streamed))
    }

    /// The stream's transposed conv (a matmul and an overlap-add) against libtorch's conv_transpose1d, also for
    /// kernels that are not twice the stride (Mimi's are), shorter than it, or a multiple of it.
    @Test(arguments: [(16, 8), (5, 2), (2, 3), (9, 3), (4, 1)])
    func overlapAddIsConvTranspose(kernel: Int, stride: Int) throws {
        Runtime.manualSeed(5)
        let weight = try Tensor.rand([6, 4, kernel]) - 0.5, bias = try Tensor.rand([4])
        let vb = VarBuilder(store: WeightStore(["conv.weight": weight, "conv.bias": bias]))
        let conv = try MimiConvTranspose1d(vb, config: MimiConfig(), inChannels: 6, outChannels: 4, kernelSize: kernel,
                                           stride: stride)
        for time in [1, 3] {
            let x = try Tensor.rand([2, 6, time]) - 0.5
            let expected = try x.convTranspose1d(weight, stride: stride)
            let ours = try conv.overlapAdd(x)
            #expect(ours.shape == expected.shape)
            #expect(try (ours - expected).abs().max().item() <= 1e-6, "kernel \(kernel), stride \(stride), \(time) steps")
        }
    }

    @Test func resetStartsANewClip() throws {
        let model = MimiFixture.model
        let first = try Self.codes(k: 32, frames: 5, size: model.config.codebookSize, seed: 1)
        let second = try Self.codes(k: 32, frames: 6, size: model.config.codebookSize, seed: 2)
        let stream = try MimiStreamingDecoder(model: model)
        _ = try stream.decode(first)
        stream.reset()
        #expect(stream.frames == 0)
        let again = try Tensor.cat([stream.decode(second.slice(2, 0, 4)), stream.decode(second.slice(2, 4))], dim: 2)
        let difference = try (again - model.decode(second)).abs().max().item()
        #expect(parity("MimiStreamingTests.reset", difference, Tolerance.streamed))
    }

    @Test func badCodesAreRefused() throws {
        let stream = try MimiStreamingDecoder(model: MimiFixture.model)
        #expect(throws: MimiError.self) { try stream.decode(Tensor.zeros([1, 32, 0], dtype: .i64)) }
        #expect(throws: MimiError.self) { try stream.decode(Tensor([Int64](repeating: 64, count: 32), shape: [1, 32, 1])) }
        #expect(stream.frames == 0)
    }
}
