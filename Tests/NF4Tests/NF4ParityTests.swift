import Foundation
import Testing
@testable import Torch

/// Bit-exact parity with bitsandbytes' NF4 on the cases written by tools/fixtures/nf4.py.
@Suite struct NF4ParityTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/nf4")

    struct Case {
        let name: String
        let shape: [Int]
        let dtype: DType
        let tensors: [String: Tensor]
        func tensor(_ part: String) throws -> Tensor { try #require(tensors["\(name).\(part)"]) }
        /// Float32 inputs dequantize to float32 already, so the fixture stores that once.
        func dequantF32() throws -> Tensor { try tensors["\(name).dequant_f32"] ?? tensor("dequant") }
    }

    static func loadCases() throws -> [Case] {
        let info = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent("nf4.json"))) as! [String: Any]
        let tensors = try Safetensors.read(folder.appendingPathComponent("nf4.safetensors"))
        let cases = info["cases"] as! [String: [String: Any]]
        return try cases.keys.sorted().map { name in
            let meta = cases[name]!
            #expect(meta["blocksize"] as? Int == NF4Tensor.defaultBlockSize)
            let dtype = try #require(DType(name: meta["dtype"] as! String))
            return Case(name: name, shape: meta["shape"] as! [Int], dtype: dtype, tensors: tensors)
        }
    }

    /// Bitwise equality (so -0.0 vs 0.0 or a last-bit rounding difference fails).
    func sameBits(_ a: Tensor, _ b: Tensor) throws -> Bool {
        guard a.dtype == b.dtype, a.shape == b.shape else { return false }
        return try a.contiguous().bytes() == b.contiguous().bytes()
    }

    @Test func codeBookIsBitsandbytes() throws {
        let info = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.folder.appendingPathComponent("nf4.json"))) as! [String: Any]
        #expect(NF4Tensor.code == (info["code"] as! [Double]).map(Float.init))
        #expect(DynamicMap.values == (info["dynamic_map"] as! [Double]).map(Float.init))
        #expect(info["double_quant_blocksize"] as? Int == NF4DoubleQuantizedAbsmax.blockSize)
        #expect(info["bitsandbytes_checked"] as? String != nil, "fixtures were not checked against bitsandbytes")
    }

    @Test func quantizesBitExactly() throws {
        let cases = try Self.loadCases()
        #expect(cases.count >= 8)
        for c in cases {
            let input = try c.tensor("input")
            #expect(input.dtype == c.dtype && input.shape == c.shape, "\(c.name)")
            let q = try NF4Tensor.quantize(input)
            #expect(try sameBits(q.packed, c.tensor("packed")), "\(c.name): packed codes")
            #expect(try sameBits(q.absmax, c.tensor("absmax")), "\(c.name): absmax")
            #expect(q.shape == c.shape && q.dtype == c.dtype, "\(c.name)")
        }
    }

    @Test func dequantizesBitExactly() throws {
        for c in try Self.loadCases() {
            // From the reference's own codes, so a quantization bug cannot hide a dequantization one.
            let q = try NF4Tensor(packed: c.tensor("packed"), absmax: c.tensor("absmax"), shape: c.shape, dtype: c.dtype)
            #expect(try sameBits(q.dequantize(), c.tensor("dequant")), "\(c.name): \(c.dtype)")
            #expect(try sameBits(q.dequantize(to: .f32), c.dequantF32()), "\(c.name): float32")
        }
    }

    @Test func doubleQuantizesBitExactly() throws {
        for c in try Self.loadCases() {
            let q = try NF4Tensor.quantize(c.tensor("input"), doubleQuant: true)
            guard case .doubleQuantized(let scales) = q.scales else {
                Issue.record("\(c.name): scales are not double-quantized")
                continue
            }
            #expect(try sameBits(q.packed, c.tensor("packed")), "\(c.name): packed codes")
            #expect(try sameBits(scales.codes, c.tensor("dq_codes")), "\(c.name): absmax codes")
            #expect(try sameBits(scales.absmax, c.tensor("dq_absmax")), "\(c.name): absmax of absmax")
            #expect(try sameBits(scales.offset, c.tensor("dq_offset")), "\(c.name): offset")
            #expect(try sameBits(q.dequantize(), c.tensor("dq_dequant")), "\(c.name): dequantized")
            // And from the reference's own stored state.
            let stored = try NF4DoubleQuantizedAbsmax(codes: c.tensor("dq_codes"), absmax: c.tensor("dq_absmax"),
                                                      offset: c.tensor("dq_offset"))
            let q2 = try NF4Tensor(packed: c.tensor("packed"), absmax: stored, shape: c.shape, dtype: c.dtype)
            #expect(try sameBits(q2.dequantize(), c.tensor("dq_dequant")), "\(c.name): dequantized from fixture")
        }
    }

    @Test func roundTripErrorIsBoundedByTheCodeSpacing() throws {
        // A value is never further from its reconstruction than half the widest gap between code-book
        // neighbours (-1 to -0.696…), times its block's absmax.
        let code = NF4Tensor.code
        let halfGap = Double((1..<16).map { code[$0] - code[$0 - 1] }.max()! / 2)
        for blockSize in [64, 32, 4096] {
            let input = try Tensor.randn([33, 70])
            let q = try NF4Tensor.quantize(input, blockSize: blockSize)
            let pad = (blockSize - 33 * 70 % blockSize) % blockSize
            let blocks = try input.reshape([-1]).pad([0, pad]).reshape([-1, blockSize])
            let err = try (q.dequantize() - input).abs().reshape([-1]).pad([0, pad]).reshape([-1, blockSize])
            let bound = try blocks.abs().max([1], keepDim: true) * (halfGap * (1 + 1e-6))
            #expect(try err.le(bound).all().item() == 1, "block size \(blockSize)")
            #expect(try err.max().item() > 0.5 * halfGap * blocks.abs().max().item() / 4, "suspiciously exact")
        }
    }
}
