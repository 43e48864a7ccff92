/// Hands out a model's weights by Hugging Face key path while the model is built, as candle's
/// VarBuilder: `vb.pp("layers").pp(3).pp("self_attn").get("q_proj.weight")`. Every tensor handed out
/// is recorded under its full key, so the recorded table is the model's parameter list in
/// checkpoint order and spelling.
public struct VarBuilder {
    public let store: WeightStore
    public let prefix: String
    /// Floating-point weights are converted to this dtype (nil keeps the stored dtype).
    public let dtype: DType?
    public let device: Device
    public let parameters: ParameterTable
    /// Full keys whose floating weights keep their stored dtype whatever `dtype` says (projections about to be
    /// quantized: converting them first would only make a copy to throw away).
    public let keepsStoredDType: ((String) -> Bool)?

    public init(store: WeightStore, dtype: DType? = nil, device: Device = .cpu, parameters: ParameterTable = ParameterTable(),
                keepsStoredDType: ((String) -> Bool)? = nil) {
        self.init(store: store, prefix: "", dtype: dtype, device: device, parameters: parameters, keepsStoredDType: keepsStoredDType)
    }

    private init(store: WeightStore, prefix: String, dtype: DType?, device: Device, parameters: ParameterTable,
                 keepsStoredDType: ((String) -> Bool)?) {
        self.store = store
        self.prefix = prefix
        self.dtype = dtype
        self.device = device
        self.parameters = parameters
        self.keepsStoredDType = keepsStoredDType
    }

    /// The builder for a child module.
    public func pp(_ name: String) -> VarBuilder {
        VarBuilder(store: store, prefix: key(name), dtype: dtype, device: device, parameters: parameters,
                   keepsStoredDType: keepsStoredDType)
    }

    public func pp(_ index: Int) -> VarBuilder { pp(String(index)) }

    /// The same position in the tree with other conversion settings.
    public func with(dtype: DType?) -> VarBuilder {
        VarBuilder(store: store, prefix: prefix, dtype: dtype, device: device, parameters: parameters,
                   keepsStoredDType: keepsStoredDType)
    }

    public func key(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    public func contains(_ name: String) -> Bool { store.contains(key(name)) }

    /// The tensor at `prefix.name`, checked against `shape` when given, converted and recorded.
    public func get(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        let full = key(name)
        guard store.contains(full) else {
            throw WeightError.missing(key: full, source: store.description)
        }
        var t = try store.tensor(full)
        if let shape, t.shape != shape {
            throw WeightError.shape(key: full, expected: shape, found: t.shape, source: store.description)
        }
        let stored = t
        if let dtype, t.dtype.isFloatingPoint, t.dtype != dtype, keepsStoredDType?(full) != true { t = try t.to(dtype) }
        if t.device != device { t = try t.to(device) }
        // A converted copy no longer needs the file's pages: give them back, or a bf16 load of an f32 file
        // holds both (9.2 GB resident for CSM-1B instead of 3.3). Throws for owned memory (freed with `stored`).
        if t !== stored { try? stored.releaseMappedPages() }
        parameters.record(full, t)
        return t
    }

    public func optional(_ name: String, shape: [Int]? = nil) throws -> Tensor? {
        contains(name) ? try get(name, shape: shape) : nil
    }
}

/// The weights a model took from its checkpoint, in the order it took them, by full key.
public final class ParameterTable {
    public private(set) var names: [String] = []
    private var byName: [String: Tensor] = [:]

    public init() {}

    func record(_ name: String, _ tensor: Tensor) {
        if byName[name] == nil { names.append(name) }
        byName[name] = tensor
    }

    public subscript(name: String) -> Tensor? { byName[name] }

    public var all: [(name: String, tensor: Tensor)] { names.map { ($0, byName[$0]!) } }
}

public enum WeightError: Error, CustomStringConvertible {
    case missing(key: String, source: String)
    case shape(key: String, expected: [Int], found: [Int], source: String)

    public var description: String {
        switch self {
        case .missing(let key, let source):
            return "\(source): missing weight '\(key)' (is this checkpoint for the same architecture and config.json?)"
        case .shape(let key, let expected, let found, let source):
            return "\(source): weight '\(key)' has shape \(found), the config implies \(expected)"
        }
    }
}
