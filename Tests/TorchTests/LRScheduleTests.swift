import Foundation
import Testing
@testable import Torch
import TestSupport

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
            var worst = 0.0
            for (step, lr) in expected.enumerated() {
                let error = Swift.abs(schedule.lr(base: base, step: step) - lr) / Swift.max(lr, 1e-12)
                #expect(error <= Tolerance.lrRelative, "\(name) warmup \(warmup) total \(total) step \(step)")
                worst = Swift.max(worst, error)
            }
            parity("LRScheduleTests.\(name)_warmup\(warmup)_total\(total)", worst, Tolerance.lrRelative)
        }
    }

    @Test func rejectsUnknownNamesAndNegativeSteps() {
        #expect(throws: TorchError.self) { try LRSchedule(name: "cosine_with_restarts", warmupSteps: 0, totalSteps: 10) }
        #expect(throws: TorchError.self) { try LRSchedule(.linear, warmupSteps: -1, totalSteps: 10) }
    }
}
