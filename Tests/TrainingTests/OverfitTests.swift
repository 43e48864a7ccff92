import CSM
import Foundation
import Testing
import Torch
@testable import Training

/// QLoRA and full fine-tuning actually learn: the loss on a tiny set falls steadily.
@Suite(.serialized) struct OverfitTests {
    func losses(configure: (CSMForConditionalGeneration) throws -> [Torch.NamedParameter], lr: Double) throws -> [Double] {
        let ref = try TrainReference()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("overfit-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let model = try loadTinyModel()
        let params = try configure(model)
        var c = try ref.config(output: out)
        c.maxSteps = 15
        c.gradientAccumulationSteps = 1
        c.learningRate = lr
        c.warmupSteps = 2
        c.lrSchedulerType = "constant_with_warmup"
        let two = Array(ref.samples.prefix(2))
        let trainer = try Trainer(config: c, model: model, parameters: params, train: two,
                                  io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }),
                                  order: { _ in [[0, 1]] })
        #expect(try trainer.run() == .finished)
        return try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).map { $0["loss"] as! Double }
    }

    @Test func qloraLearns() throws {
        var quantized = 0
        let l = try losses(configure: { model in
            quantized = try model.quantizeDecoderLayers()
            Runtime.manualSeed(1)
            try model.applyLoRA(LoRAConfig(rank: 4, alpha: 8))
            return model.loraParameters
        }, lr: 2e-2)
        #expect(quantized > 0)
        #expect(l.allSatisfy { $0.isFinite })
        #expect(l.last! < 0.7 * l.first!, "QLoRA losses: \(l)")
    }

    @Test func fullFineTuningLearns() throws {
        let l = try losses(configure: { try $0.makeTrainable() }, lr: 5e-3)
        #expect(l.last! < 0.5 * l.first!, "full fine-tuning losses: \(l)")
    }
}
