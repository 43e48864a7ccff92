import CSM
import Foundation
import Testing
import Torch
@testable import Training

/// Interrupted runs resume exactly: same loss sequence, same final weights as an uninterrupted run,
/// with randomness in play (LoRA dropout, depth-decoder frame sampling).
@Suite(.serialized) struct ResumeTests {
    struct Run {
        let dir: URL
        let model: CSMForConditionalGeneration
        let params: [Torch.NamedParameter]
        let config: TrainConfig
        let samples: [Sample]

        init(_ name: String, resume: Bool = false, dir: URL? = nil) throws {
            let ref = try TrainReference()
            self.dir = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(name)-\(UUID())")
            model = try loadTinyModel()
            Runtime.manualSeed(3407)
            try model.applyLoRA(LoRAConfig(rank: 4, alpha: 8, dropout: 0.1))
            model.setTraining(true)
            params = model.loraParameters
            var c = try ref.config(output: self.dir)
            c.saveEvery = 2
            c.decoderFraction = 0.5
            c.maxSteps = 6
            c.resume = resume
            config = c
            samples = ref.samples
        }

        func trainer(genEvery: Int = 0, generate: ((Int) throws -> URL)? = nil) throws -> Trainer {
            let params = self.params
            var config = self.config
            config.genEvery = genEvery
            let io = TrainerIO(
                saveWeights: { folder in
                    try Safetensors.write(Dictionary(uniqueKeysWithValues: params.map { ($0.name, $0.tensor) }),
                                          to: folder.appendingPathComponent("weights.safetensors"))
                },
                loadWeights: { folder in
                    let saved = try Safetensors.read(folder.appendingPathComponent("weights.safetensors"))
                    try withNoGrad { for (name, t) in params { try t.copy_(saved[name]!) } }
                },
                generate: generate, log: { _ in })
            return try Trainer(config: config, model: model, parameters: params, train: samples, io: io)
        }

        var losses: [Double] {
            get throws { try MetricsLog.read(dir.appendingPathComponent("metrics.jsonl")).map { $0["loss"] as! Double } }
        }

        func weights() throws -> [[Float]] { try params.map { try $0.tensor.toArray(Float.self) } }
    }

    @Test func ctrlCSavesAndResumeContinuesExactly() throws {
        let full = try Run("full")
        defer { try? FileManager.default.removeItem(at: full.dir) }
        #expect(try full.trainer().run() == .finished)

        let first = try Run("interrupted")
        defer { try? FileManager.default.removeItem(at: first.dir) }
        // "Ctrl-C" during step 3's per-step work: the trainer finishes the step it is in (4), saves
        // checkpoint-4 and returns.
        let t = try first.trainer(genEvery: 1, generate: { step in
            if step == 3 { Interrupt.shared.request() }
            return first.dir
        })
        Interrupt.shared.clear()
        defer { Interrupt.shared.clear() }
        #expect(try t.run() == .interrupted)
        Interrupt.shared.clear()
        #expect(Checkpoint.latest(in: first.dir)?.lastPathComponent == "checkpoint-4")

        let resumed = try Run("resumed", resume: true, dir: first.dir)
        #expect(try resumed.trainer().run() == .finished)
        #expect(try resumed.losses == full.losses)
        #expect(try resumed.weights() == full.weights())
    }

    @Test func crashAfterACheckpointResumesFromIt() throws {
        let full = try Run("full2")
        defer { try? FileManager.default.removeItem(at: full.dir) }
        #expect(try full.trainer().run() == .finished)

        // Step 3 completes, then the process "dies" (an error thrown from the per-step hook) before
        // anything of step 3 is saved; checkpoint-2 is the latest.
        struct Crash: Error {}
        let crashed = try Run("crashed")
        defer { try? FileManager.default.removeItem(at: crashed.dir) }
        let crashing = try crashed.trainer(genEvery: 3, generate: { _ in throw Crash() })
        #expect(throws: Crash.self) { try crashing.run() }
        #expect(Checkpoint.latest(in: crashed.dir)?.lastPathComponent == "checkpoint-2")

        let resumed = try Run("resumed2", resume: true, dir: crashed.dir)
        #expect(try resumed.trainer().run() == .finished)
        #expect(try resumed.losses == full.losses)
        #expect(try resumed.weights() == full.weights())
    }

    @Test func nonFiniteLossStopsAndKeepsTheLastCheckpoint() throws {
        let run = try Run("nan")
        defer { try? FileManager.default.removeItem(at: run.dir) }
        var c = run.config
        c.learningRate = 1e30  // step 1's loss is the base model's; its update blows the weights up
        c.maxGradNorm = 0
        c.warmupSteps = 0
        c.saveEvery = 1  // so a checkpoint is written after step 1, before the loss turns non-finite
        let trainer = try Trainer(config: c, model: run.model, parameters: run.params, train: run.samples,
                                  io: TrainerIO(saveWeights: { folder in
                                      try Data("ok".utf8).write(to: folder.appendingPathComponent("weights.txt"))
                                  }, loadWeights: { _ in }, log: { _ in }))
        #expect {
            try trainer.run()
        } throws: { error in
            "\(error)".contains("loss is") && "\(error)".contains("weights stay intact")
        }
        // The checkpoint written before the blow-up is still there and complete.
        let last = try #require(Checkpoint.latest(in: run.dir), "no checkpoint survived the non-finite loss")
        #expect(FileManager.default.fileExists(atPath: last.appendingPathComponent("weights.txt").path))
    }

    /// `--resume` refuses a checkpoint made with other settings that fix the data, the sample order or the
    /// weights' shapes, naming them by their keys; other settings may change.
    @Test func resumeRefusesChangedSettings() throws {
        let first = try Run("first")
        defer { try? FileManager.default.removeItem(at: first.dir) }
        #expect(try first.trainer().run() == .finished)
        let again = try Run("again", resume: true, dir: first.dir)
        var c = again.config
        c.seed += 1
        c.batchSize += 1
        c.learningRate *= 2
        c.maxSteps += 2
        let trainer = try Trainer(config: c, model: again.model, parameters: again.params, train: again.samples,
                                  io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }))
        #expect { try trainer.resumeIfAsked() } throws: { "\($0)".contains("with different batch_size, seed; ") }
        c.seed -= 1
        c.batchSize -= 1
        let resumable = try Trainer(config: c, model: again.model, parameters: again.params, train: again.samples,
                                    io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }))
        #expect(try resumable.resumeIfAsked())
    }
}
