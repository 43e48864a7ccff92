import Foundation
import Testing
@testable import Torch

/// The reference data written by tools/fixtures/torch_ops.py (torch 2.11 on CPU).
enum TorchFixture {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/torch_ops")

    static func tensors(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: folder.appendingPathComponent("\(name).safetensors").path)
    }

    static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("\(name).json")))
    }
}

/// Tolerances: f32 results must agree to 1e-5 relative, bf16 to 1e-2; the absolute term scales
/// with the largest expected magnitude so values that cancel to ~0 are not held to a relative bound.
struct Tolerance {
    var rtol: Double
    var atol: Double

    static let f32 = Tolerance(rtol: 1e-5, atol: 1e-6)
    static let bf16 = Tolerance(rtol: 1e-2, atol: 1e-2)
    static func forDType(_ d: DType) -> Tolerance { d == .bf16 || d == .f16 ? .bf16 : .f32 }
}

/// Checks shape, dtype and every value of `actual` against `expected`; integer and bool tensors must be equal.
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
        let excess = Swift.abs(a[i] - e[i]) - (tol.atol * scale + tol.rtol * Swift.abs(e[i]))
        if excess > worst || (a[i].isNaN != e[i].isNaN) { worst = Swift.max(excess, worst); worstIndex = i }
    }
    #expect(worstIndex < 0,
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
