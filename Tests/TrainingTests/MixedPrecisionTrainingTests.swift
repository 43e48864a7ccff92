import CSM
import Foundation
import Testing
import Torch
@testable import Training
import TestSupport

/// `--mixed_precision bf16` trains as well as f32: 50 LoRA steps on the demo model (Tests/Fixtures/demo-model,
/// what `make demo` trains) over its reference conversation (two turns), once as `--base_dtype f32 --mixed_precision no` (the
/// exact f32 path) and once as `--base_dtype bf16 --mixed_precision bf16` (what an AMX/CUDA machine runs by default).
@Suite(.serialized) struct MixedPrecisionTrainingTests {
    static let steps = 50

    func losses(baseDtype: String, mixedPrecision: String) throws -> [Double] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mixed-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let model = try CSMForConditionalGeneration.load(folder: fixturesFolder.appendingPathComponent("demo-model"), dtype: .f32)
        var c = TrainConfig()
        c.preprocessedPath = "unused"
        c.outputDir = out.path
        c.maxSteps = Self.steps
        c.batchSize = 1
        c.gradientAccumulationSteps = 1
        c.learningRate = 5e-3
        c.warmupSteps = 4
        c.lrSchedulerType = "constant_with_warmup"
        c.saveEvery = 0
        c.genEvery = 0
        c.baseDtype = baseDtype
        c.mixedPrecision = mixedPrecision
        c.recomputeMlp = "none"  // the same numbers with fewer ops (TrainingMemoryTests)
        try c.applyMemorySettings(to: model, device: .cpu, log: { _ in })
        #expect(model.computeDType == (mixedPrecision == "bf16" ? .bf16 : nil))
        Runtime.manualSeed(3407)
        try model.applyLoRA(LoRAConfig(rank: 8, alpha: 16))
        model.setTraining(true)
        // The demo's two turns as one conversation, both turns' audio labelled.
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: fixturesFolder.appendingPathComponent("demo/expected.json"))) as! [String: Any]
        let turns = (json["turns"] as! [[String: Any]]).map {
            Turn(speaker: $0["speaker"] as! Int, textIds: $0["text_ids"] as! [Int], codes: $0["codes"] as! [[Int]])
        }
        let samples = [Sample(turns: turns)]
        let trainer = try Trainer(config: c, model: model, parameters: model.loraParameters, train: samples,
                                  io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }),
                                  order: { _ in [[0]] })
        #expect(try trainer.run() == .finished)
        #expect(model.loraParameters.allSatisfy { $0.tensor.dtype == .f32 }, "LoRA weights stay f32")
        return try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).map { $0["loss"] as! Double }
    }

    /// Both runs fall by the same amount: the bf16 run's loss stays within `Tolerance.bf16ComputeTrajectory` of the
    /// f32 run's at every step, and its last 10 steps' mean within `Tolerance.bf16ComputeConverged`.
    @Test func fiftyDemoStepsConvergeLikeF32() throws {
        let f32 = try losses(baseDtype: "f32", mixedPrecision: "no")
        let bf16 = try losses(baseDtype: "bf16", mixedPrecision: "bf16")
        #expect(f32.count == Self.steps && bf16.count == Self.steps)
        #expect(bf16 != f32, "the bf16 run should not be bit-identical to f32")
        #expect(f32.last! < 0.85 * f32.first!, "the f32 run learns: \(f32)")
        let worst = zip(bf16, f32).map { relativeGap($0, $1) }.max()!
        #expect(parity("MixedPrecisionTrainingTests.demo.worst_step_loss", worst, Tolerance.bf16ComputeTrajectory))
        let tail = { (l: [Double]) in l.suffix(10).reduce(0, +) / 10 }
        #expect(parity("MixedPrecisionTrainingTests.demo.last10_mean_loss", relativeGap(tail(bf16), tail(f32)),
                       Tolerance.bf16ComputeConverged), "f32 \(f32)\nbf16 \(bf16)")
        print("MIXED demo losses: f32 \(f32.first!) → \(tail(f32)); bf16 \(bf16.first!) → \(tail(bf16))")
    }

    func relativeGap(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }
}
