/// A weight-only quantization scheme for inference (`csm generate --quantize`).
public enum WeightQuantization: Equatable, Sendable, CustomStringConvertible {
    /// Per-output-channel symmetric int8 (`Int8Linear`).
    case int8
    /// Group-wise asymmetric int4 over `groupSize` inputs (`Int4Linear`, CPU only).
    case int4(groupSize: Int)

    /// `"int8"` or `"int4"` (with `groupSize`), as the CLI spells it.
    public init(name: String, groupSize: Int = Int4Linear.defaultGroupSize) throws {
        switch name.lowercased() {
        case "int8": self = .int8
        case "int4":
            guard Int4Linear.supportedGroupSizes.contains(groupSize) else {
                throw TorchError("int4 group size must be one of \(Int4Linear.supportedGroupSizes), got \(groupSize)")
            }
            self = .int4(groupSize: groupSize)
        default: throw TorchError("unknown quantization '\(name)': use int8 or int4")
        }
    }

    public var description: String {
        switch self {
        case .int8: return "int8 (per-channel symmetric)"
        case .int4(let g): return "int4 (group size \(g), asymmetric)"
        }
    }

    /// Whether a (out, in) projection can be held this way.
    public func supports(outFeatures: Int, inFeatures: Int) -> Bool {
        switch self {
        case .int8: return true
        case .int4(let g): return Int4Linear.supports(outFeatures: outFeatures, inFeatures: inFeatures, groupSize: g)
        }
    }

    /// `dense` held this way. A weight borrowed from a memory-mapped file gives its pages back.
    public func quantize(_ dense: Linear) throws -> any LinearLayer {
        let layer: any LinearLayer
        switch self {
        case .int8: layer = try Int8Linear(dense)
        case .int4(let g): layer = try Int4Linear(dense, groupSize: g)
        }
        try? dense.weight.releaseMappedPages()  // throws for owned memory, freed with `dense` instead
        return layer
    }
}
