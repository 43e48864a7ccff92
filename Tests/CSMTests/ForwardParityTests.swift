import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

@Suite struct ForwardParityTests {
    @Test func singleSampleLogitsAndLoss() throws {
        let model = try Fixture.model()
        for (i, sample) in Fixture.samples.enumerated() {
            let batch = try CSMBatch(samples: [sample], config: model.config)
            let (loss, logits) = try withNoGrad { try model.loss(batch) }
            let want = Fixture.tensors["single\(i).logits"]!
            #expect(parity("ForwardParityTests.single\(i).logits", try relativeError(logits.squeeze(0), want), Tolerance.f32Forward))
            try expectLosses(loss, Fixture.expected.single[i], "ForwardParityTests.single\(i)")
        }
    }

    @Test func depthDecoderLogits() throws {
        let model = try Fixture.model()
        let sample = Fixture.samples[1]
        let batch = try CSMBatch(samples: [sample], config: model.config)
        let (hidden, _) = try model.forward(batch)
        let rows = try Tensor(batch.depthFrames.map { Int64($0.position - 1) })
        let logits = try model.depthLogits(backboneHidden: hidden.squeeze(0).indexSelect(0, rows), codes: batch.depthInputs)
        #expect(parity("ForwardParityTests.single1.depth_logits",
                       try relativeError(logits, Fixture.tensors["single1.depth_logits"]!), Tolerance.f32Forward))
    }

    @Test func paddedBatchMatches() throws {
        let model = try Fixture.model()
        let batch = try CSMBatch(samples: Fixture.samples, config: model.config)
        #expect(batch.isPadded)
        let (loss, logits) = try withNoGrad { try model.loss(batch) }
        try expectRowLogits(logits, Fixture.tensors["batch.logits"]!, batch, "ForwardParityTests.batch")
        // every frame and every audio-end position is a target of both terms (decoder fraction 1)
        let targets = Fixture.samples.reduce(0) { $0 + $1.frameCount + $1.turns.count }
        #expect(loss.backboneCount == targets && loss.depthFrames == targets)
        #expect(loss.depthCount == targets * (model.config.numCodebooks - 1))
        try expectLosses(loss, Fixture.expected.batch, "ForwardParityTests.batch")
    }

    @Test func decoderFractionLabels() throws {
        let model = try Fixture.model()
        let layouts = try zip(Fixture.samples, Fixture.expected.depth_skip).map {
            try $0.layout(model.config.specialIds, depthSkip: Set($1))
        }
        let batch = try CSMBatch(layouts, numCodebooks: model.config.numCodebooks)
        let (loss, _) = try withNoGrad { try model.loss(batch) }
        try expectLosses(loss, Fixture.expected.batch_fraction, "ForwardParityTests.batch_fraction")
    }
}

@Suite struct EvaluateTests {
    @Test func meanOfPerSampleLosses() throws {
        let model = try Fixture.model()
        let r = try model.evaluate(Fixture.samples)
        let single = Fixture.expected.single
        let want = single.map(\.loss).reduce(0, +) / Double(single.count)
        #expect(parity("EvaluateTests.loss", relativeError(r.loss, want), Tolerance.f32Forward))
        #expect(parity("EvaluateTests.backbone_loss", relativeError(r.backboneLoss, single.map(\.backbone_loss).reduce(0, +) / 2),
                       Tolerance.f32Forward))
        #expect(parity("EvaluateTests.depth_loss", relativeError(r.depthLoss, single.map(\.depth_loss).reduce(0, +) / 2),
                       Tolerance.f32Forward))
        #expect(r.samples == 2 && r.frames == Fixture.samples.reduce(0) { $0 + $1.frameCount })
        #expect(throws: CSMError.self) { try model.evaluate([Sample]()) }
    }
}
