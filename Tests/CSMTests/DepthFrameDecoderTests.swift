import Testing
import Torch
@testable import CSM
import TestSupport

/// The depth decoder's two head layouts (views of `codebooks_head.weight`, or transposed copies used as `linear`
/// weights where that product is faster) draw the same frames.
@Suite struct DepthFrameDecoderTests {
    @Test(arguments: [DType.f32, .bf16])
    func headLayoutsDrawTheSameCodes(dtype: DType) throws {
        let model = try CSMForConditionalGeneration.load(folder: Fixture.tiny, dtype: dtype)
        let rows = 3, k = model.config.numCodebooks
        Runtime.manualSeed(7)
        let hidden = try Tensor.randn([rows, model.config.backbone.hiddenSize]).to(dtype)
        let code0 = try Tensor.randint(0, model.config.vocabSize, [rows])
        try withNoGrad {
            var frames: [[Int64]] = []
            for transpose in [false, true] {
                let decoder = try DepthFrameDecoder(model: model, transposeHeads: transpose)
                #expect(decoder.headsTransposed == transpose)
                var rngs = (0..<rows).map { SeededRandom(seed: UInt64($0)) }
                let codes = try decoder(backboneHidden: hidden, code0: code0,
                                        Array(repeating: .greedy, count: rows), rngs: &rngs)
                #expect(codes.shape == [rows, k])
                frames.append(try codes.toArray(Int64.self))
            }
            #expect(frames[0] == frames[1])
        }
    }

    /// The automatic choice: views in f32; transposed copies for 16-bit weights on a CPU without bf16 arithmetic.
    @Test func automaticLayout() throws {
        #expect(try DepthFrameDecoder(model: Fixture.model()).headsTransposed == false)
        let bf16 = try CSMForConditionalGeneration.load(folder: Fixture.tiny, dtype: .bf16)
        #expect(try DepthFrameDecoder(model: bf16).headsTransposed == !Device.cpu.hasBF16Arithmetic)
    }
}
