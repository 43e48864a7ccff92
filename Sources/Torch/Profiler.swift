import CTorch
import Foundation

/// libtorch's operator profiler, for finding where a step's time goes (`csm-bench train --profile`): every
/// ATen op run between `start` and `stop` is written to a Chrome trace (JSON; chrome://tracing or
/// tools/bench/profile_summary.py), with `scope` ranges marking stretches of ours such as the optimizer step.
public enum Profiler {
    public static func start(trace: URL) throws { try check(ct_profile_begin(trace.path)) }
    public static func stop() throws { try check(ct_profile_end()) }

    /// Runs `body` as one named range of the trace (free when no profile runs).
    public static func scope<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let range = ct_profile_scope_begin(name)
        defer { ct_profile_scope_end(range) }
        return try body()
    }
}
