import Testing
import Torch
import TestSupport

/// QLoRA: a frozen NF4 base with a trainable low-rank pair on top.
@Suite struct NF4TrainingTests {
    /// y = base(x) + scale · B A x, the LoRA forward.
    func qlora(_ x: Tensor, base: NF4Tensor, bias: Tensor?, a: Tensor, b: Tensor, scale: Double) throws -> Tensor {
        try nf4Linear(x, weight: base, bias: bias) + x.linear(a).linear(b) * scale
    }

    @Test func gradientsReachTheLowRankPairAndNeverTheCodes() throws {
        Runtime.manualSeed(3)
        let base = try NF4Tensor.quantize(Tensor.randn([24, 64], dtype: .bf16))
        let packedBefore = try base.packed.bytes(), absmaxBefore = try base.absmax.bytes()
        let bias = try Tensor.randn([24], dtype: .bf16)
        let x = try Tensor.randn([5, 7, 64]).requiresGrad(true)
        let a = try (Tensor.randn([4, 64]) * 0.1).requiresGrad(true)
        let b = try (Tensor.randn([24, 4]) * 0.1).requiresGrad(true)
        let loss = try qlora(x, base: base, bias: bias, a: a, b: b, scale: 2).square().mean()
        try loss.backward()

        // The same computation with the dequantized weight as a plain constant.
        let dense = try base.dequantize(to: .f32)
        #expect(dense.requiresGrad == false)
        let x2 = try x.detach().clone().requiresGrad(true)
        let a2 = try a.detach().clone().requiresGrad(true), b2 = try b.detach().clone().requiresGrad(true)
        let y2 = try x2.linear(dense, bias: bias.to(.f32)) + x2.linear(a2).linear(b2) * 2
        try y2.square().mean().backward()

        for (got, want, name) in [(a, a2, "A"), (b, b2, "B"), (x, x2, "x")] {
            let g = try #require(try got.grad, "\(name) has no gradient")
            let w = try #require(try want.grad)
            #expect(try g.abs().max().item() > 0, "\(name)")
            #expect(parity("NF4TrainingTests.qlora_grad_\(name)",
                           try (g - w).abs().max().item() / Swift.max(1, try w.abs().max().item()), Tolerance.f32SameProduct))
        }
        #expect(try base.packed.requiresGrad == false && base.absmax.requiresGrad == false)
        #expect(try base.packed.bytes() == packedBefore && base.absmax.bytes() == absmaxBefore)
    }

    @Test func lowRankDeltaOverfitsOnAFrozenNF4Base() throws {
        Runtime.manualSeed(11)
        let inF = 64, outF = 32, rank = 4
        let base = try NF4Tensor.quantize(Tensor.randn([outF, inF]) * 0.2)
        let packedBefore = try base.packed.bytes()
        // The target is reachable: the quantized base plus a rank-2 change.
        let delta = try Tensor.randn([outF, 2]).matmul(Tensor.randn([2, inF])) * 0.1
        let x = try Tensor.randn([128, inF])
        let target = try withNoGrad { try nf4Linear(x, weight: base) + x.linear(delta) }

        let a = try (Tensor.rand([rank, inF]) * 0.2 - 0.1).requiresGrad(true)  // Kaiming-uniform-like
        let b = try Tensor.zeros([outF, rank]).requiresGrad(true)                 // LoRA starts as a no-op
        let optimizer = try AdamW([("lora_A", a), ("lora_B", b)], lr: 0.02, weightDecay: 0)
        var losses: [Double] = []
        for _ in 0..<150 {
            let loss = try (qlora(x, base: base, bias: nil, a: a, b: b, scale: 1) - target).square().mean()
            losses.append(try loss.item())
            try optimizer.zeroGrad()
            try loss.backward()
            try optimizer.step()
        }
        #expect(losses[0] > 0.05)
        #expect(losses.last! < losses[0] * 1e-2, "loss \(losses[0]) -> \(losses.last!)")
        #expect(try base.packed.bytes() == packedBefore)
    }
}

@Suite struct NF4LinearTests {
    @Test func computesInTheInputDtypeAndMatchesTheDenseProduct() throws {
        let weight = try Tensor.randn([48, 64]), bias = try Tensor.randn([48])
        for (base, dtype, name) in [(try NF4Tensor.quantize(weight), DType.f32, "f32"), (try NF4Tensor.quantize(weight), .bf16, "bf16"),
                                    (try NF4Tensor.quantize(weight, doubleQuant: true), .f32, "f32_double_quant")] {
            let x = try Tensor.randn([3, 5, 64], dtype: dtype)
            let y = try nf4Linear(x, weight: base, bias: bias)
            #expect(y.dtype == dtype && y.shape == [3, 5, 48])
            let dense = try x.linear(base.dequantize(to: dtype), bias: bias.to(dtype))
            let diff = try (y - dense).abs().max().item(), scale = try dense.abs().max().item()
            #expect(parity("NF4LinearTests.dense_product_\(name)", diff / scale,
                           dtype == .f32 ? Tolerance.f32SameProduct : Tolerance.bf16SameProduct), "\(dtype): \(diff) of \(scale)")
        }
    }

    @Test func biasGetsItsGradient() throws {
        let base = try NF4Tensor.quantize(Tensor.randn([6, 64]))
        let bias = try Tensor.zeros([6]).requiresGrad(true)
        try nf4Linear(Tensor.randn([4, 64]), weight: base, bias: bias).sum().backward()
        let grad = try #require(try bias.grad)
        #expect(try grad.toArray(Float.self) == [Float](repeating: 4, count: 6))
    }
}
