import Foundation

/// Prints `PARITY <what> <measured> <= <bound>` (what: `<suite>.<comparison>`), the line the portability passes
/// of `make test` are grepped for, and returns whether the measured error is within the bound (NaN is not).
/// Each test target declares its bounds, with the reason each holds on any x86-64 CPU, in its own `Tolerance`.
@discardableResult
public func parity(_ what: String, _ measured: Double, _ bound: Double) -> Bool {
    print("PARITY \(what) \(String(format: "%.3g", measured)) <= \(String(format: "%.3g", bound))")
    return measured <= bound
}
