import Testing
import Torch
import TestSupport

/// The int8 and int4 layers compute exactly the dense product of the weight they dequantize to (so the scales,
/// the rounding and the kernels' packing are right), and that weight is within the scheme's rounding bound of
/// the original.
@Suite(.serialized) struct QuantizedLinearTests {
    /// Relative error of the kernel's product against `x W'ᵀ` in f32: the same real numbers summed in another
    /// order (the kernels block K differently from the f32 GEMM) — K=256 products of magnitude ~1, ~1e-7
    /// relative each: 1e-5 of the output's largest magnitude. A wrong scale, zero or code order is O(1).
    static let productBound = 1e-5

    static func dense(out: Int, in k: Int, seed: UInt64) throws -> Linear {
        Runtime.manualSeed(seed)
        // Rows of different ranges, and one all-zero row, to exercise per-row/per-group scales.
        let w = try Tensor.randn([out, k]) * (try Tensor.rand([out, 1]) * 3 + 0.05)
        try w.narrow(0, 1, 1).zero_()
        return try Linear(VarBuilder(store: WeightStore(["weight": w])), inFeatures: k, outFeatures: out, bias: false)
    }

    static func relative(_ a: Tensor, _ b: Tensor) throws -> Double {
        try (a - b).abs().max().item() / max(try b.abs().max().item(), 1e-12)
    }

    @Test func int8MatchesItsDequantizedWeight() throws {
        let dense = try Self.dense(out: 96, in: 256, seed: 1)
        let q = try Int8Linear(dense)
        #expect(q.codes.dtype == .i8 && q.codes.shape == [96, 256] && q.scales.shape == [96])
        let x = try Tensor.randn([2, 5, 256])
        let y = try q(x)
        #expect(y.shape == [2, 5, 96])
        let want = try x.linear(q.dequantized())
        #expect(parity("QuantizedLinearTests.int8.product", try Self.relative(y, want), Self.productBound))
        // Round to nearest on a per-row grid of max|w|/127: |W − W'| ≤ scale/2 (+ f32 rounding of the division).
        let err = try (q.dequantized() - dense.weight).abs()
        let halfStep = try q.scales.unsqueeze(1) / 2
        #expect(try (err - halfStep * 1.0001).max().item() <= 1e-7)
        // The row maximum is representable exactly (code ±127), the zero row stays zero.
        #expect(try q.codes.abs().max([1]).narrow(0, 0, 1).item() == 127)
        #expect(try q.dequantized().narrow(0, 1, 1).abs().max().item() == 0)
        // bf16 activations: the kernel's bf16 path, within bf16 rounding of the output (2⁻⁸ relative).
        let yb = try q(x.to(.bf16))
        #expect(yb.dtype == .bf16)
        #expect(parity("QuantizedLinearTests.int8.bf16", try Self.relative(yb.to(.f32), want), 1e-2))
    }

    /// Input widths that are not a multiple of 8 in bf16 (libtorch 2.11's kernel reads past such rows: wrong
    /// sums for one row, a segfault for several; `Int8Linear` runs them in f32): right for one row and several.
    @Test(arguments: [4, 12, 20, 100])
    func int8OddWidthsInBF16(width: Int) throws {
        let q = try Int8Linear(Self.dense(out: 33, in: width, seed: 2))
        for rows in [1, 2, 3, 6] {
            let x = try Tensor.randn([rows, width])
            let y = try q(x.to(.bf16))
            #expect(y.dtype == .bf16)
            #expect(parity("QuantizedLinearTests.int8.bf16.width\(width)", try Self.relative(y.to(.f32), x.linear(q.dequantized())), 1e-2))
        }
    }

    @Test(arguments: [32, 64, 128])
    func int4MatchesItsDequantizedWeight(groupSize: Int) throws {
        let dense = try Self.dense(out: 96, in: 256, seed: 2)
        let q = try Int4Linear(dense, groupSize: groupSize)
        #expect(q.packed.dtype == .u8 && q.packed.shape == [96, 128])
        #expect(q.scalesAndZeros.shape == [256 / groupSize, 96, 2])
        // W' = (code − 8)·scale + zero, with the codes and the layout the kernel was given.
        let (codes, sz) = try Int4Linear.quantize(dense.weight, groupSize: groupSize)
        #expect(try codes.min().item() >= 0 && codes.max().item() <= 15)
        let scale = try sz.select(2, 0).transpose(0, 1).unsqueeze(2)  // (N, K/g, 1)
        let zero = try sz.select(2, 1).transpose(0, 1).unsqueeze(2)
        let deq = try ((codes.to(.f32).reshape([96, 256 / groupSize, groupSize]) - 8) * scale + zero).reshape([96, 256])
        let x = try Tensor.randn([3, 256])
        let y = try q(x)
        #expect(parity("QuantizedLinearTests.int4.g\(groupSize).product", try Self.relative(y, x.linear(deq)),
                       Self.productBound))
        // Round to nearest on each group's 16-step grid: |W − W'| ≤ scale/2 (+ f32 rounding).
        let err = try (deq - dense.weight).abs().reshape([96, 256 / groupSize, groupSize])
        #expect(try (err - scale / 2 * 1.0001).max().item() <= 1e-6)
        // Leading dimensions are kept.
        #expect(try q(Tensor.randn([2, 4, 256])).shape == [2, 4, 96])
    }

    @Test func int4RejectsShapesTheKernelDoesNotTake() throws {
        #expect(!Int4Linear.supports(outFeatures: 24, inFeatures: 64, groupSize: 32))  // out not a multiple of 16
        #expect(!Int4Linear.supports(outFeatures: 32, inFeatures: 48, groupSize: 32))  // in not a multiple of the group
        #expect(!Int4Linear.supports(outFeatures: 32, inFeatures: 64, groupSize: 16))  // group the kernel lacks
        #expect(throws: TorchError.self) { try Int4Linear(try Self.dense(out: 24, in: 64, seed: 3), groupSize: 32) }
        #expect(throws: TorchError.self) { try WeightQuantization(name: "int4", groupSize: 48) }
        #expect(throws: TorchError.self) { try WeightQuantization(name: "int3") }
    }
}
