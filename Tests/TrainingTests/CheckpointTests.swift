import Foundation
import Testing
import Torch
@testable import Training

@Suite struct CheckpointTests {
    @Test func savesAtomicallyAndRestoresOptimizerAndState() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try Tensor([1.0, 2.0, 3.0] as [Float]).requiresGrad(true)
        let opt = try AdamW([("w", w)], lr: 0.1)
        try (w * w).sum().backward()
        try opt.step()
        var state = TrainerState(config: TrainConfig())
        state.globalStep = 3
        state.epoch = 1
        state.batchInEpoch = 2
        try Checkpoint.save(outputDir: dir, state: state, optimizer: opt) { folder in
            try Safetensors.write(["w": w], to: folder.appendingPathComponent("weights.safetensors"))
        }
        // A save that fails half-way leaves no folder behind and the earlier one as the latest.
        state.globalStep = 4
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try Checkpoint.save(outputDir: dir, state: state, optimizer: opt) { _ in throw Boom() }
        }
        #expect(Checkpoint.latest(in: dir)?.lastPathComponent == "checkpoint-3")

        let latest = try #require(Checkpoint.latest(in: dir))
        #expect(try Checkpoint.loadState(latest).batchInEpoch == 2)
        let fresh = try AdamW([("w", w)], lr: 0.1)
        try Checkpoint.loadOptimizer(latest, into: fresh)
        #expect(fresh.stepCount("w") == 1)
    }
}
