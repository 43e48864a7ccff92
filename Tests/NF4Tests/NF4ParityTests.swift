import Foundation
import Testing
@testable import Torch
import TestSupport

/// Bit-exact parity with bitsandbytes' NF4 on the cases written by tools/fixtures/nf4.py (what goes through a
/// reduction, the double-quantization offset, within `Tolerance.meanUlps`).
@Suite struct NF4ParityTests {
    static let folder = fixturesFolder.appendingPathComponent("nf4")

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

    /// The plain NF4 part and the codes bit for bit; the offset (a mean, so a reduction) and what shifts with it
    /// within stated ulps. The codes stay exact because no absmax sits close enough to a grid boundary for an
    /// offset moved by `Tolerance.meanUlps` to change its code (checked: `offsetCodeFlips`).
    @Test func doubleQuantizesBitExactly() throws {
        for c in try Self.loadCases() {
            let q = try NF4Tensor.quantize(c.tensor("input"), doubleQuant: true)
            guard case .doubleQuantized(let scales) = q.scales else {
                Issue.record("\(c.name): scales are not double-quantized")
                continue
            }
            #expect(try sameBits(q.packed, c.tensor("packed")), "\(c.name): packed codes")
            #expect(try sameBits(scales.codes, c.tensor("dq_codes")), "\(c.name): absmax codes")
            #expect(parity("NF4ParityTests.\(c.name).dq_offset_ulps", try ulpDistance(scales.offset, c.tensor("dq_offset"), .f32),
                           Tolerance.meanUlps))
            #expect(parity("NF4ParityTests.\(c.name).dq_absmax_ulps", try ulpDistance(scales.absmax, c.tensor("dq_absmax"), .f32),
                           Tolerance.offsetShiftUlps))
            let halfUlps = c.dtype == .f32 ? Tolerance.offsetShiftUlps : Tolerance.offsetShiftHalfUlps
            #expect(parity("NF4ParityTests.\(c.name).dq_dequant_ulps", try ulpDistance(q.dequantize(), c.tensor("dq_dequant"), c.dtype),
                           halfUlps))
            // And from the reference's own stored state: elementwise only, so bit for bit.
            let stored = try NF4DoubleQuantizedAbsmax(codes: c.tensor("dq_codes"), absmax: c.tensor("dq_absmax"),
                                                      offset: c.tensor("dq_offset"))
            let q2 = try NF4Tensor(packed: c.tensor("packed"), absmax: stored, shape: c.shape, dtype: c.dtype)
            #expect(try sameBits(q2.dequantize(), c.tensor("dq_dequant")), "\(c.name): dequantized from fixture")

            let absmax = try c.tensor("absmax").toArray(Float.self)
            let offset = try c.tensor("dq_offset").toArray(Float.self)[0]
            #expect(parity("NF4ParityTests.\(c.name).dq_offset_reordered_ulps", Self.meanReorderingUlps(absmax, offset),
                           Tolerance.meanUlps))
            let moved = try Self.offsetCodeFlips(absmax, offset, c.tensor("dq_codes"))
            #expect(parity("NF4ParityTests.\(c.name).dq_code_flips", Double(moved.flips), 0))
            #expect(parity("NF4ParityTests.\(c.name).dq_absmax_moved_ulps", moved.absmaxUlps, Tolerance.offsetShiftUlps))
        }
    }

    /// How far (in ulps of `offset`) the f32 mean of `values` lands when summed in the orders ATen's vectorized
    /// sum may use: 8 and 16 interleaved lanes (AVX2/`default`, AVX512), each lane sum then reduced pairwise, and
    /// one sequential pass. An emulation of other CPUs' reduction order, not their exact kernels.
    static func meanReorderingUlps(_ values: [Float], _ offset: Float) -> Double {
        func laneSum(_ lanes: Int) -> Float {
            var acc = [Float](repeating: 0, count: lanes)
            for (i, v) in values.enumerated() { acc[i % lanes] += v }
            while acc.count > 1 { acc = stride(from: 0, to: acc.count, by: 2).map { acc[$0] + ($0 + 1 < acc.count ? acc[$0 + 1] : 0) } }
            return acc[0]
        }
        let n = Float(values.count)
        let means = [laneSum(1), laneSum(8), laneSum(16), laneSum(32)].map { $0 / n }
        return means.map { Double(abs($0 - offset) / offset.ulp) }.max()!
    }

    /// Entry i: the number of dynamic-map midpoints strictly below grid point -1 + 2i/65535 (f32), as
    /// NF4DoubleQuant.swift builds it with `bucketize`.
    static let gridTable: [Int] = {
        let map = DynamicMap.values, grid = NF4DoubleQuantizedAbsmax.gridSize
        let midpoints = (0..<map.count - 1).map { 0.5 * (map[$0] + map[$0 + 1]) }
        var below = 0
        return (0..<grid).map { i in
            let point = Float(i) * 2 / Float(grid - 1) + -1
            while below < midpoints.count && midpoints[below] < point { below += 1 }
            return below
        }
    }()

    /// Codes of bitsandbytes' double quantization recomputed (the CPU kernel's f32 steps, as NF4DoubleQuant.swift)
    /// from the fixture's f32 absmax with its offset moved by −meanUlps…+meanUlps ulps: how many differ from the
    /// fixture's codes. Zero means the exact code comparison holds on any CPU whose mean lands within that range.
    /// Also the largest change of the per-block absmax of (absmax − offset), in its ulps. A mean of one or two
    /// values is exact whatever the order, so those are not moved.
    static func offsetCodeFlips(_ absmax: [Float], _ offset: Float, _ codes: Tensor) throws -> (flips: Int, absmaxUlps: Double) {
        let expected = try codes.toArray(Int.self)
        let grid = NF4DoubleQuantizedAbsmax.gridSize, table = Self.gridTable
        var flips = 0, absmaxUlps = 0.0
        var reference: [Float]?, maximaSeen: [[Float]] = []
        let steps = absmax.count < 3 ? 0 : Int(Tolerance.meanUlps)
        var shifted = offset
        for _ in 0..<steps { shifted = shifted.nextDown }
        for _ in 0...(2 * steps) {
            var got: [Int] = [], maxima: [Float] = []
            for start in stride(from: 0, to: absmax.count, by: NF4DoubleQuantizedAbsmax.blockSize) {
                let block = absmax[start..<min(start + NF4DoubleQuantizedAbsmax.blockSize, absmax.count)].map { $0 - shifted }
                let blockMax = block.map(abs).max()!
                maxima.append(blockMax)
                let inverse: Float = blockMax == 0 ? 0 : 1 / blockMax
                got += block.map { v in
                    guard blockMax != 0 else { return 0 }
                    let scaled = min(max(v * inverse, -1), 1)
                    return table[Int((scaled + 1) * 0.5 * Float(grid - 1) + 0.5)]
                }
            }
            flips = max(flips, zip(got, expected).filter { $0 != $1 }.count)
            if shifted == offset { reference = maxima }
            shifted = shifted.nextUp
            maximaSeen.append(maxima)
        }
        for maxima in maximaSeen {
            absmaxUlps = max(absmaxUlps, zip(maxima, reference!).map { Double(abs($0 - $1) / max($1, .leastNormalMagnitude).ulp) }.max()!)
        }
        return (flips, absmaxUlps)
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
