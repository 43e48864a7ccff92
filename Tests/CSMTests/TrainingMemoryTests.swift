import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

/// The memory levers of LoRA training (bf16 frozen base, MLP recomputation, mapped-page release) against
/// the plain f32 path on the tiny fixture, whose weights (std 0.3) make logits far from uniform so
/// numerical differences show.
@Suite(.serialized) struct TrainingMemoryTests {
    /// Loss and LoRA gradients (by name) of one forward/backward over the fixture batch, with the
    /// fixture's PEFT adapter and `prepare` applied to the model first.
    func lossAndGradients(dropout: Double = 0, _ prepare: (CSMForConditionalGeneration) throws -> Void = { _ in })
        throws -> (loss: Double, grads: [String: Tensor]) {
        let model = try Fixture.model()
        try PEFTAdapter.load(Fixture.root.appendingPathComponent("peft_adapter"), into: model)
        for slot in model.linearSlots {
            guard let l = slot.layer as? LoRALinear else { continue }
            let lora = LoRALinear(base: l.base, a: try l.a.detach().requiresGrad(true),
                                  b: try l.b.detach().requiresGrad(true), scale: l.scale, dropout: dropout)
            lora.training = true
            slot.layer = lora
        }
        try prepare(model)
        Runtime.manualSeed(7)
        let loss = try model.loss(CSMBatch(samples: Fixture.samples, config: model.config)).loss.total()
        try loss.backward()
        var grads = [String: Tensor]()
        for (name, t) in model.loraParameters { grads[name] = try #require(try t.grad, "\(name) has no gradient") }
        return (try loss.item(), grads)
    }

    /// Recomputation runs the same operations again, so gradients match to float rounding of the
    /// accumulation order; with dropout they match only if the recomputation draws the same masks.
    @Test(arguments: [0.0, 0.3]) func recomputedMLPsGiveTheSameGradients(dropout: Double) throws {
        let plain = try lossAndGradients(dropout: dropout)
        let recomputed = try lossAndGradients(dropout: dropout) { $0.recomputeMLPs(backbone: true, depthDecoder: true) }
        #expect(recomputed.loss == plain.loss)
        #expect(recomputed.grads.count == plain.grads.count && plain.grads.count == 2 * 7 * 4)
        for (name, want) in plain.grads {
            #expect(parity("TrainingMemoryTests.recomputed_dropout\(dropout).\(name)",
                           try relativeError(try #require(recomputed.grads[name]), want), Tolerance.f32Recomputed))
        }
    }

    /// bf16 keeps 8 significant bits: each frozen weight moves by up to 2⁻⁹ ≈ 0.2 % of itself, and the
    /// native product also rounds the activations, the outputs and the output gradients. Measured on this
    /// fixture (large random weights, std 0.3, so errors compound through its 4 layers): loss within 5e-4
    /// relative; all LoRA gradients together within ~1 % (upcast) and ~3 % (native) in L2. The bounds allow
    /// about 4× and 3× that; a wrong product (transposed, unscaled, missing the LoRA path) is off by O(1).
    /// The full-size model's step-1 loss moves by 1e-5 relative (BENCHMARKS.md).
    @Test(arguments: FrozenProduct.allCases) func bf16BaseStaysCloseToF32(product: FrozenProduct) throws {
        let f32 = try lossAndGradients()
        var narrowed = 0
        let bf16 = try lossAndGradients { model in
            narrowed = try model.storeDecoderLayers(as: .bf16, product: product)
            // Narrowed underneath the adapters already attached; the heads stay dense.
            let up = (model.backboneModel.layers[0].mlp.upProj as? LoRALinear)?.base as? FrozenLinear
            let q = (model.depthDecoder.model.layers[1].selfAttn.qProj as? LoRALinear)?.base as? FrozenLinear
            #expect(up?.weight.dtype == .bf16 && up?.product == product)
            #expect(q?.weight.dtype == .bf16)
            #expect((model.lmHead as? Linear)?.weight.dtype == .f32)
        }
        #expect(narrowed > 0)
        #expect(bf16.loss != f32.loss, "the bf16 path should not be bit-identical to f32")
        #expect(parity("TrainingMemoryTests.bf16_\(product).loss", relativeError(bf16.loss, f32.loss), Tolerance.bf16BaseLoss),
                "loss \(bf16.loss) vs \(f32.loss)")
        var diff = 0.0, norm = 0.0
        for (name, want) in f32.grads {
            let got = try #require(bf16.grads[name])
            diff += try (got - want).pow(2).sum().item()
            norm += try want.pow(2).sum().item()
        }
        let err = (diff / norm).squareRoot()
        let bound = product == .upcast ? Tolerance.bf16BaseGradientUpcast : Tolerance.bf16BaseGradientNative
        #expect(parity("TrainingMemoryTests.bf16_\(product).lora_gradients", err, bound), "LoRA gradients: relative L2 error \(err)")
    }

    @Test func frozenLinearRefusesTrainableWeights() throws {
        let w = try Tensor.ones([3, 4], dtype: .bf16).requiresGrad(true)
        #expect(throws: TorchError.self) { try frozenLinear(Tensor.ones([2, 4]), weight: w, product: .upcast) }
    }

    @Test func frozenLinearMatchesTheWidenedProduct() throws {
        let x = try Tensor.randn([5, 8]).requiresGrad(true), w = try Tensor.randn([6, 8]).to(.bf16)
        let y = try frozenLinear(x, weight: w, product: .upcast)
        try y.sum().backward()
        let x2 = try x.detach().requiresGrad(true)
        try x2.linear(w.to(.f32)).sum().backward()
        #expect(parity("TrainingMemoryTests.frozen_linear.output", try relativeError(y, x2.linear(w.to(.f32))), Tolerance.f32Recomputed))
        #expect(parity("TrainingMemoryTests.frozen_linear.input_grad",
                       try relativeError(try #require(try x.grad), try #require(try x2.grad)), Tolerance.f32Recomputed))
    }

    /// Pages of a mapped safetensors file can be given back and are read again from the file; memory
    /// the tensor owns is refused (dropping it would zero the values).
    @Test func mappedPagesAreReleasedAndReread() throws {
        let store = try WeightStore(folder: Fixture.tiny)
        let key = "embed_text_tokens.weight"
        let before = try store.tensor(key).clone()
        let mapped = try store.tensor(key)
        try mapped.releaseMappedPages()
        #expect(try relativeError(mapped, before) == 0)
        #expect(throws: TorchError.self) { try before.releaseMappedPages() }
    }
}
