import Testing
import Torch
import TestSupport

@Suite struct NF4TensorTests {
    @Test func holdsHalfAByteAPerParameterPlusOneScalePerBlock() throws {
        let weight = try Tensor.randn([256, 512], dtype: .bf16)
        let q = try NF4Tensor.quantize(weight)
        let n = 256 * 512
        #expect(q.packed.dtype == .u8 && q.packed.count == n / 2)
        let absmax = try q.absmax
        #expect(absmax.dtype == .f32 && absmax.count == n / 64)
        #expect(q.byteCount == n / 2 + 4 * n / 64)
        #expect(Double(q.byteCount) / Double(n) == 0.5625)  // vs 2 for bf16, 4 for f32
        #expect(q.dtype == .bf16 && q.shape == [256, 512])
        #expect(try q.dequantize().dtype == .bf16)

        let dq = try NF4Tensor.quantize(weight, doubleQuant: true)
        let blocks = n / 64
        #expect(dq.byteCount == n / 2 + blocks + 4 * ((blocks + 255) / 256 + 1))
        #expect(Double(dq.byteCount) / Double(n) < 0.516)
        // The 8-bit scales stay within the dynamic map's resolution of the float32 ones.
        let relative = try ((dq.absmax - q.absmax).abs() / q.absmax).max().item()
        #expect(relative > 0)
        #expect(parity("NF4TensorTests.double_quant_scales", relative, Tolerance.doubleQuantResolution))
    }

    @Test func quantizationIsIdempotentOnItsOwnOutput() throws {
        // A dequantized weight is exactly representable: quantizing it again gives the same codes.
        let q = try NF4Tensor.quantize(Tensor.randn([40, 72]))
        let again = try NF4Tensor.quantize(q.dequantize())
        #expect(try again.packed.eq(q.packed).all().item() == 1)
        #expect(try again.absmax.eq(q.absmax).all().item() == 1)
    }

    @Test func otherBlockSizes() throws {
        let weight = try Tensor.randn([10, 50])
        for blockSize in [32, 128, 4096] {
            let q = try NF4Tensor.quantize(weight, blockSize: blockSize)
            #expect(try q.absmax.count == (500 + blockSize - 1) / blockSize)
            let expectedFirstMax = try weight.reshape([-1]).narrow(0, 0, Swift.min(blockSize, 500)).abs().max().item()
            #expect(try q.absmax[0].item() == expectedFirstMax)
        }
    }

    @Test func rejectsWhatBitsandbytesRejects() throws {
        #expect(throws: TorchError.self) { try NF4Tensor.quantize(Tensor.arange(64)) }
        #expect(throws: TorchError.self) { try NF4Tensor.quantize(Tensor.zeros([0, 64])) }
        #expect(throws: TorchError.self) { try NF4Tensor.quantize(Tensor.randn([64]), blockSize: 48) }
        let packed = try Tensor.zeros([31], dtype: .u8), absmax = try Tensor.ones([1])
        #expect(throws: TorchError.self) { try NF4Tensor(packed: packed, absmax: absmax, shape: [64], dtype: .f32) }
        #expect(throws: TorchError.self) {
            try NF4Tensor(packed: Tensor.zeros([32], dtype: .u8), absmax: Tensor.ones([2]), shape: [64], dtype: .f32)
        }
        #expect(throws: TorchError.self) {
            try NF4DoubleQuantizedAbsmax(codes: Tensor.zeros([300], dtype: .u8), absmax: Tensor.ones([1]),
                                         offset: Tensor.zeros([1]))
        }
        let q = try NF4Tensor.quantize(Tensor.randn([8, 16]))
        #expect(throws: TorchError.self) { try nf4Linear(Tensor.randn([2, 8]), weight: q) }
        #expect(throws: TorchError.self) { try nf4Linear(Tensor.randn([2, 16]), weight: q, bias: Tensor.zeros([16])) }
        let flat = try NF4Tensor.quantize(Tensor.randn([64]))
        #expect(throws: TorchError.self) { try nf4Linear(Tensor.randn([2, 64]), weight: flat) }
    }
}
