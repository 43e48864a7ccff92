import Foundation

/// Learning-rate schedules of `transformers.get_scheduler`, as a multiplier of the base rate.
///
/// Like torch's LambdaLR, the rate used by optimizer step `k` (0-based) is `base * multiplier(k)`,
/// where `k` counts the scheduler steps taken before it: the first update runs at `multiplier(0)`,
/// which is 0 during warm-up.
public struct LRSchedule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case linear, cosine, constant
        case constantWithWarmup = "constant_with_warmup"
    }

    public let kind: Kind
    public let warmupSteps: Int
    public let totalSteps: Int
    /// Cosine waves over the decay phase (transformers' `num_cycles`, 0.5 = one half-wave down to 0).
    public let cycles: Double

    public init(_ kind: Kind, warmupSteps: Int, totalSteps: Int, cycles: Double = 0.5) throws {
        guard warmupSteps >= 0, totalSteps >= 0 else {
            throw TorchError("LR schedule: warm-up (\(warmupSteps)) and total (\(totalSteps)) steps must be >= 0")
        }
        self.kind = kind
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.cycles = cycles
    }

    /// By transformers' name: "linear", "cosine", "constant" or "constant_with_warmup".
    public init(name: String, warmupSteps: Int, totalSteps: Int) throws {
        guard let kind = Kind(rawValue: name) else {
            let known = Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw TorchError("unknown lr_scheduler_type '\(name)': use one of \(known)")
        }
        try self.init(kind, warmupSteps: warmupSteps, totalSteps: totalSteps)
    }

    /// The factor applied to the base learning rate at scheduler step `step`.
    public func multiplier(_ step: Int) -> Double {
        let s = Double(step), warmup = Double(warmupSteps), total = Double(totalSteps)
        switch kind {
        case .constant:
            return 1  // transformers ignores warm-up for "constant"
        case .constantWithWarmup:
            return step < warmupSteps ? s / Swift.max(1, warmup) : 1
        case .linear:
            if step < warmupSteps { return s / Swift.max(1, warmup) }
            return Swift.max(0, (total - s) / Swift.max(1, total - warmup))
        case .cosine:
            if step < warmupSteps { return s / Swift.max(1, warmup) }
            let progress = (s - warmup) / Swift.max(1, total - warmup)
            return Swift.max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress)))
        }
    }

    /// `base * multiplier(step)`.
    public func lr(base: Double, step: Int) -> Double { base * multiplier(step) }
}
