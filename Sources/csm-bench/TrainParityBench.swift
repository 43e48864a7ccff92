// csm-bench train-parity: the 5 LoRA steps of Tests/Fixtures/train (tools/fixtures/train.py's reference
// trajectory: tiny CSM, batch 2 × accumulation 2, warm-up + linear decay, clipping) through `csm train`'s
// Trainer on any device, as JSON. TrainParityTests checks the CPU against the committed fixture;
// scripts/gpu_check.sh checks CUDA against HF+PEFT run on the same GPU (tools/gpu_check/reference.py).
import ArgumentParser
import CSM
import Foundation
import Torch
import Training

struct TrainParityBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-parity", abstract: "The 5 LoRA steps of Tests/Fixtures/train on a device (JSON losses).")

    @Option(help: "The Tests/Fixtures folder.") var fixtures = "Tests/Fixtures"
    @Option(help: "cpu, cuda, cuda:N or mps.") var device = "cpu"

    func run() throws {
        let root = URL(fileURLWithPath: fixtures)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("train/expected.json")))
            as! [String: Any]
        let samples = (json["samples"] as! [[[String: Any]]]).map { turns in
            Sample(turns: turns.map {
                Turn(speaker: $0["speaker"] as! Int, textIds: $0["text_ids"] as! [Int], codes: $0["codes"] as! [[Int]])
            })
        }
        let order = (json["order"] as! [[[Int]]]).flatMap { $0 }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("train-parity-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        // The fixture's settings are named as csm train's, so TrainConfig's own decoding reads them.
        var c = try JSONDecoder().decode(TrainConfig.self, from: JSONSerialization.data(withJSONObject: json["settings"]!))
        c.preprocessedPath = "unused"
        c.outputDir = out.path
        c.saveEvery = 0
        c.genEvery = 0
        let device = try Device.parse(self.device)
        let model = try CSMForConditionalGeneration.load(folder: root.appendingPathComponent("csm/tiny"), dtype: .f32,
                                                         device: device)
        try PEFTAdapter.load(root.appendingPathComponent("train/initial_adapter"), into: model)
        let params = try model.loraParameters.map { ($0.name, try $0.tensor.requiresGrad(true)) }
        let trainer = try Trainer(config: c, model: model, parameters: params, train: samples,
                                  io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }),
                                  order: { _ in order })
        _ = try trainer.run()
        let rows = try MetricsLog.read(out.appendingPathComponent("metrics.jsonl"))
        try printJSON(["impl": "csm-swift", "device": "\(device)", "losses": rows.map { $0["loss"] as! Double },
                       "grad_norms": rows.map { $0["grad_norm"] as! Double }])
    }
}
