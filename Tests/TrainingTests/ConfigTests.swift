import Foundation
import Testing
@testable import Training

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct ConfigTests {
    @Test func defaultsAreTheSeeds() {
        let c = TrainConfig()
        #expect(c.outputDir == "./outputs" && c.modelId == "unsloth/csm-1b")
        #expect(c.batchSize == 2 && c.gradientAccumulationSteps == 4 && c.learningRate == 2e-4)
        #expect(c.nEpochs == 2 && c.maxSteps == -1 && c.warmupSteps == 5 && c.weightDecay == 0.001)
        #expect(c.lrSchedulerType == "linear" && c.maxGradNorm == 1.0 && c.seed == 3407)
        #expect(!c.loadIn4bit && !c.fullFinetune && c.loraR == 32 && c.loraAlpha == 32)
        #expect(c.saveEvery == 500 && c.genEvery == 1000 && c.genFrom == nil && !c.useWandb)
    }

    @Test(arguments: [("finetune_param_defaults.yaml", 8), ("finetune_param_defaults_bs4.yaml", 4),
                      ("finetune_param_defaults_lower_vram.yaml", 2)])
    func presetsLoad(name: String, batch: Int) throws {
        let c = try TrainConfig.load(yaml: repo.appendingPathComponent("configs/\(name)"))
        #expect(c.batchSize == batch)
        #expect(c.batchSize * c.gradientAccumulationSteps == 8)
    }

    @Test func unknownKeysAndBadTypesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let typo = dir.appendingPathComponent("typo.yaml")
        try "batch_sizee: 4\n".write(to: typo, atomically: true, encoding: .utf8)
        #expect { try TrainConfig.load(yaml: typo) } throws: {
            "\($0)".contains("unknown setting 'batch_sizee'") && "\($0)".contains("batch_size")
        }
        let badType = dir.appendingPathComponent("bad.yaml")
        try "batch_size: many\n".write(to: badType, atomically: true, encoding: .utf8)
        #expect { try TrainConfig.load(yaml: badType) } throws: { "\($0)".contains("batch_size") }
        #expect { try TrainConfig.load(yaml: dir.appendingPathComponent("missing.yaml")) } throws: {
            "\($0)".contains("missing.yaml")
        }
        let empty = dir.appendingPathComponent("empty.yaml")
        try "".write(to: empty, atomically: true, encoding: .utf8)
        #expect(try TrainConfig.load(yaml: empty) == TrainConfig())
    }

    @Test func validationCatchesImpossibleSettings() throws {
        var c = TrainConfig()
        #expect(throws: ConfigError.self) { try c.validate() }  // no preprocessed_path
        c.preprocessedPath = "p"
        try c.validate()
        c.lrSchedulerType = "exponential"
        #expect { try c.validate() } throws: { "\($0)".contains("lr_scheduler_type") }
        c = TrainConfig()
        c.preprocessedPath = "p"
        c.fullFinetune = true
        c.loadIn4bit = true
        #expect(throws: ConfigError.self) { try c.validate() }
    }
}
