import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

/// bf16 compute (`setComputeDType(.bf16)`, `csm train --mixed_precision bf16`) against the f32 path on the tiny
/// fixture with its PEFT adapter, next to transformers + PEFT's own gap under `torch.autocast(bfloat16)` on the same
/// batch (Tests/Fixtures/csm/autocast.json, tools/fixtures/autocast.py).
@Suite(.serialized) struct MixedPrecisionTests {
    struct HFLosses: Decodable { let loss: Double, backbone_loss: Double, depth_loss: Double }
    struct HFGap: Decodable {
        let f32: HFLosses, bf16_autocast: HFLosses
        let gradient_cosine: [String: Double]
        let min_gradient_cosine: Double
    }
    static let hf: HFGap = try! JSONDecoder().decode(
        HFGap.self, from: Data(contentsOf: Fixture.root.appendingPathComponent("autocast.json")))

    struct Run { let loss: CSMLoss, logits: Tensor, grads: [String: Tensor] }

    /// One forward/backward over the fixture batch with the fixture's adapter (trainable, f32), the base narrowed
    /// to `base` first when given, in `compute`.
    func run(compute: DType?, base: DType? = nil) throws -> Run {
        let model = try Fixture.model()
        if let base { try model.storeDecoderLayers(as: base, product: .native) }
        try PEFTAdapter.load(Fixture.root.appendingPathComponent("peft_adapter"), into: model)
        for (_, lora) in model.loraAdapters {
            lora.a = try lora.a.detach().requiresGrad(true)
            lora.b = try lora.b.detach().requiresGrad(true)
        }
        model.setComputeDType(compute)
        let (loss, logits) = try model.loss(CSMBatch(samples: Fixture.samples, config: model.config))
        try loss.total().backward()
        var grads = [String: Tensor]()
        for (name, t) in model.loraParameters {
            #expect(t.dtype == .f32, "\(name): LoRA weights stay f32")
            grads[name] = try #require(try t.grad, "\(name) has no gradient")
        }
        return Run(loss: loss, logits: logits, grads: grads)
    }

    func cosine(_ a: Tensor, _ b: Tensor) throws -> Double {
        let (a, b) = (try a.to(.f64).flatten(), try b.to(.f64).flatten())
        return try (a * b).sum().item() / ((a * a).sum().item() * (b * b).sum().item()).squareRoot()
    }

    /// Losses within `Tolerance.bf16ComputeLoss` of f32 (transformers' own autocast gap on this batch is printed
    /// beside them), every LoRA gradient at cosine ≥ `Tolerance.bf16ComputeGradientCosine` of its f32 value;
    /// over the f32 base (each weight cast per product) and over a bf16 base (products native).
    @Test(arguments: [DType.f32, .bf16]) func bf16ComputeStaysCloseToF32(base: DType) throws {
        let f32 = try run(compute: nil)
        let bf16 = try run(compute: .bf16, base: base == .bf16 ? .bf16 : nil)
        #expect(bf16.logits.dtype == .bf16, "the heads run in bf16")
        #expect(try bf16.loss.total().dtype == .f32, "the loss is an f32 island")
        let hf = Self.hf
        let pairs: [(String, Double, Double, Double)] = [
            ("loss", try bf16.loss.total().item(), try f32.loss.total().item(), relative(hf.bf16_autocast.loss, hf.f32.loss)),
            ("backbone_loss", try bf16.loss.backboneLoss().item(), try f32.loss.backboneLoss().item(),
             relative(hf.bf16_autocast.backbone_loss, hf.f32.backbone_loss)),
            ("depth_loss", try bf16.loss.depthLoss().item(), try f32.loss.depthLoss().item(),
             relative(hf.bf16_autocast.depth_loss, hf.f32.depth_loss)),
        ]
        for (what, got, want, hfGap) in pairs {
            #expect(got != want, "\(what): bf16 compute should not be bit-identical to f32")
            print("MIXED \(what) base \(base): ours bf16-vs-f32 \(String(format: "%.3g", relative(got, want))), transformers autocast-vs-f32 \(String(format: "%.3g", hfGap))")
            #expect(parity("MixedPrecisionTests.base_\(base).\(what)", relative(got, want), Tolerance.bf16ComputeLoss))
        }
        #expect(bf16.grads.count == f32.grads.count && f32.grads.count == Self.hf.gradient_cosine.count)
        var worst = 1.0
        for (name, want) in f32.grads {
            let c = try cosine(try #require(bf16.grads[name]), want)
            worst = min(worst, c)
            #expect(parity("MixedPrecisionTests.base_\(base).cosine_gap.\(name)", 1 - c, 1 - Tolerance.bf16ComputeGradientCosine))
        }
        print("MIXED base \(base): worst LoRA gradient cosine ours \(worst), transformers \(hf.min_gradient_cosine)")
    }

    /// Without a compute dtype the model runs exactly as before: the same bits as a model never told one.
    @Test func noComputeDTypeIsTheF32Path() throws {
        let plain = try run(compute: nil)
        let model = try Fixture.model()
        model.setComputeDType(.bf16)
        model.setComputeDType(nil)
        try PEFTAdapter.load(Fixture.root.appendingPathComponent("peft_adapter"), into: model)
        let (loss, logits) = try model.loss(CSMBatch(samples: Fixture.samples, config: model.config))
        #expect(try loss.total().item() == plain.loss.total().item())
        #expect(try (logits - plain.logits).abs().max().item() == 0)
    }

    /// Adapters attached after the compute dtype is set take it too (the order `csm train` uses).
    @Test func adaptersAttachedLaterComputeInBF16() throws {
        let model = try Fixture.model()
        model.setComputeDType(.bf16)
        try model.applyLoRA(LoRAConfig(rank: 2, alpha: 4))
        #expect(model.loraAdapters.allSatisfy { $0.lora.compute == .bf16 && $0.lora.a.dtype == .f32 })
    }

    func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }
}
