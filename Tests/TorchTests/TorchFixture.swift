import Foundation
import Testing
@testable import Torch
import TestSupport

/// The reference data written by tools/fixtures/torch_ops.py (torch 2.11 on CPU).
enum TorchFixture {
    static let folder = fixturesFolder.appendingPathComponent("torch_ops")

    static func tensors(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: folder.appendingPathComponent("\(name).safetensors").path)
    }

    static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("\(name).json")))
    }
}

/// Every bound the suites of this target compare with torch's fixtures under, declared once. ATen picks CPU
/// kernels per instruction set (AVX2 here, AVX512/AMX elsewhere, `ATEN_CPU_CAPABILITY=default`), so results
/// differ in the last bits between CPUs; each bound says why it holds on any x86-64 CPU with AVX2 or better.
/// `rtol` is relative to each expected value; `atol` scales with the tensor's largest magnitude (at least 1), so
/// values that cancel to ~0 are not held to a relative bound.
struct Tolerance {
    var rtol: Double
    var atol: Double

    /// One f32 op, or a short graph of them (ModelGradientTests: ≤ 10 ops forward and back): vectorized kernels
    /// differ from torch's by a few ulps (~1e-7) across instruction sets, more where a reduction reorders (measured
    /// ≤ 1.4e-6 with ATEN_CPU_CAPABILITY=default); 1e-5.
    static let f32 = Tolerance(rtol: 1e-5, atol: 1e-6)
    /// bf16/f16 results of one op: 8 (11) significant bits, so one rounding is up to 2^-9 relative and a kernel
    /// that accumulates in f32 and rounds once can land one bf16 ulp (3.9e-3) from torch's; 1e-2 is ~2.5 ulps.
    static let bf16 = Tolerance(rtol: 1e-2, atol: 1e-2)
    static func forDType(_ d: DType) -> Tolerance { d == .bf16 || d == .f16 ? .bf16 : .f32 }
    /// f32 torch.stft: each bin is a sum of n_fft windowed samples computed by MKL's FFT (the CPU torch's, which
    /// picks its code per instruction set, not through ATen's dispatch), whose rounding error grows as
    /// ~ε·log2(n_fft) times the frame's norm, not times the bin: a bin that cancels to near zero carries the error
    /// of the large ones, so the absolute part (scaled by the largest magnitude) is what matters. Measured ≤ 9.5e-8
    /// (one ulp) on the AVX2 EPYC, with ATEN_CPU_CAPABILITY=avx2/default and MKL held to AVX2 alike; 1e-5 of the
    /// largest magnitude (10× `f32`'s) leaves room for MKL's AVX512 paths reordering the butterflies (~ε·log2 400).
    static let fft = Tolerance(rtol: 1e-5, atol: 1e-5)

    /// Learning rates: f64 closed forms in Swift against Python's math module, no torch kernel involved; only
    /// the JSON round trip of the Python repr may differ in the last bit (2.2e-16), so 1e-12 relative.
    static let lrRelative = 1e-12
}


/// Checks shape, dtype and every value of `actual` against `expected`; integer and bool tensors must be equal
/// (they are indices, masks and comparisons of the fixture's own inputs: no rounding involved). For floats it
/// records `PARITY <file's suite>.<label> <e> <= <rtol>`, where e is the smallest rtol (with atol scaled along,
/// same atol/rtol ratio) under which every element would pass.
func expectClose(_ actual: Tensor, _ expected: Tensor, _ tolerance: Tolerance? = nil, _ label: String,
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(actual.shape == expected.shape, "\(label): shape", sourceLocation: sourceLocation)
    #expect(actual.dtype == expected.dtype, "\(label): dtype", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let a = try actual.toArray(Double.self), e = try expected.toArray(Double.self)
    guard expected.dtype.isFloatingPoint else {
        #expect(a == e, "\(label): values", sourceLocation: sourceLocation)
        return
    }
    let tol = tolerance ?? .forDType(expected.dtype)
    let scale = Swift.max(1, e.map(Swift.abs).max() ?? 0)
    var worst = 0.0, worstIndex = -1
    for i in e.indices {
        let allowed = tol.atol * scale + tol.rtol * Swift.abs(e[i])
        let used = a[i].isNaN != e[i].isNaN ? .infinity
            : a[i] == e[i] || a[i].isNaN ? 0 : Swift.abs(a[i] - e[i]) / allowed  // both NaN, or both the same infinity
        if used > worst || used.isNaN { worst = used.isNaN ? .infinity : used; worstIndex = i }
    }
    let suite = sourceLocation.fileName.replacingOccurrences(of: ".swift", with: "")
    let label = label.replacingOccurrences(of: " ", with: "_")
    #expect(parity("\(suite).\(label)", worst * tol.rtol, tol.rtol),
            "\(label): element \(worstIndex) is \(worstIndex < 0 ? 0 : a[worstIndex]), torch has \(worstIndex < 0 ? 0 : e[worstIndex])",
            sourceLocation: sourceLocation)
}

/// Arguments of a fixture case, as written to JSON by the Python script.
struct CaseArgs {
    let values: [String: Any]

    func int(_ k: String) -> Int { values[k] as! Int }
    func ints(_ k: String) -> [Int] { values[k] as! [Int] }
    func double(_ k: String) -> Double { (values[k] as! NSNumber).doubleValue }
    func optionalDouble(_ k: String) -> Double? { (values[k] as? NSNumber)?.doubleValue }
    func doubles(_ k: String) -> [Double] { (values[k] as! [NSNumber]).map(\.doubleValue) }
    func bool(_ k: String) -> Bool { values[k] as! Bool }
    func string(_ k: String) -> String { values[k] as! String }
    func dtype(_ k: String) -> DType { DType(name: string(k))! }
}
