import Foundation
import Testing
@testable import Torch

/// Learning rates per step against transformers.get_scheduler + torch LambdaLR.
@Suite struct LRScheduleTests {
    @Test func matchesTransformersGetScheduler() throws {
        let runs = try TorchFixture.json("schedules") as! [[String: Any]]
        #expect(runs.count == 8)
        for run in runs {
            let name = run["name"] as! String, warmup = run["warmup"] as! Int, total = run["total"] as! Int
            let base = (run["base_lr"] as! NSNumber).doubleValue
            let expected = (run["lrs"] as! [NSNumber]).map(\.doubleValue)
            let schedule = try LRSchedule(name: name, warmupSteps: warmup, totalSteps: total)
            for (step, lr) in expected.enumerated() {
                // JSON parsing may differ from the Python repr in the last bit; allow 1e-12 relative.
                #expect(Swift.abs(schedule.lr(base: base, step: step) - lr) <= 1e-12 * Swift.max(lr, 1e-12),
                        "\(name) warmup \(warmup) total \(total) step \(step)")
            }
        }
    }

    @Test func rejectsUnknownNamesAndNegativeSteps() {
        #expect(throws: TorchError.self) { try LRSchedule(name: "cosine_with_restarts", warmupSteps: 0, totalSteps: 10) }
        #expect(throws: TorchError.self) { try LRSchedule(.linear, warmupSteps: -1, totalSteps: 10) }
    }
}
