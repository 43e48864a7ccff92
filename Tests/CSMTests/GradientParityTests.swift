import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

@Suite struct GradientParityTests {
    @Test func fullFineTuneGradients() throws {
        let model = try Fixture.model()
        let params = try model.makeTrainable()
        let batch = try CSMBatch(samples: Fixture.samples, config: model.config)
        try model.loss(batch).loss.total().backward()
        let expected = Set(Fixture.tensors.keys.filter { $0.hasPrefix("full_grad.") }.map { String($0.dropFirst(10)) })
        #expect(Set(params.map(\.name)) == expected)
        for (name, t) in params {
            let want = try #require(Fixture.tensors["full_grad." + name])
            let got = try #require(try t.grad, "\(name) has no gradient")
            #expect(parity("GradientParityTests.full.\(name)", try relativeError(got, want), Tolerance.f32Gradient))
        }
    }

    @Test func loraGradientsAndLogits() throws {
        let model = try Fixture.model()
        try PEFTAdapter.load(Fixture.root.appendingPathComponent("peft_adapter"), into: model)
        let params = try model.loraParameters.map { ($0.name, try $0.tensor.requiresGrad(true)) }
        for (path, lora) in model.loraAdapters {
            lora.a = params.first { $0.0 == path + ".lora_A.weight" }!.1
            lora.b = params.first { $0.0 == path + ".lora_B.weight" }!.1
        }
        let expectedCount = Fixture.tensors.keys.filter { $0.hasPrefix("lora_grad.") }.count
        #expect(params.count == expectedCount)
        let batch = try CSMBatch(samples: Fixture.samples, config: model.config)
        let (loss, logits) = try model.loss(batch)
        try expectLosses(loss, Fixture.expected.lora_batch, "GradientParityTests.lora_batch")
        try expectRowLogits(logits, Fixture.tensors["lora.batch.logits"]!, batch, "GradientParityTests.lora_batch")
        try loss.total().backward()
        for (name, t) in params {
            // PEFT's parameter names carry the adapter name: `…lora_A.default.weight`.
            let peftName = name.replacingOccurrences(of: ".weight", with: ".default.weight")
            let want = try #require(Fixture.tensors["lora_grad." + peftName], "\(peftName) missing in fixture")
            #expect(parity("GradientParityTests.lora.\(name)", try relativeError(try #require(try t.grad), want),
                           Tolerance.f32Gradient))
        }
    }

    /// Gradient accumulation: per-micro-batch sums normalised by the whole batch's counts give the gradient
    /// of the whole batch at once.
    @Test func accumulationIsExact() throws {
        let model = try Fixture.model()
        let params = try model.makeTrainable()
        let config = model.config
        let whole = try model.loss(CSMBatch(samples: Fixture.samples, config: config)).loss
        try whole.total().backward()
        let reference = try params.map { try $0.tensor.grad!.clone() }
        for p in params { try p.tensor.setGrad(nil) }
        let parts = try Fixture.samples.map { try model.loss(CSMBatch(samples: [$0], config: config)).loss }
        let b = parts.reduce(0) { $0 + $1.backboneCount }, d = parts.reduce(0) { $0 + $1.depthCount }
        #expect(b == whole.backboneCount && d == whole.depthCount)
        for part in parts { try part.normalized(backboneCount: b, depthCount: d).backward() }
        for (p, want) in zip(params, reference) {
            #expect(parity("GradientParityTests.accumulation.\(p.name)", try relativeError(p.tensor.grad!, want),
                           Tolerance.f32Reordered))
        }
    }
}
