import Foundation

/// Named tensors from one or more sources: a safetensors file, a sharded Hugging Face folder
/// (`model.safetensors.index.json`), or an in-memory dictionary.
public final class WeightStore {
    private var files: [SafetensorsFile] = []
    private var location: [String: Int] = [:]  // key -> index into files
    private var memory: [String: Tensor] = [:]
    public let description: String

    /// All tensors of the given safetensors files.
    public init(files paths: [String]) throws {
        description = paths.count == 1 ? paths[0] : "\(paths.count) safetensors files"
        for path in paths {
            let file = try SafetensorsFile(path: path)
            for key in file.entries.keys { location[key] = files.count }
            files.append(file)
        }
    }

    /// In-memory tensors (tests, randomly initialised models).
    public init(_ tensors: [String: Tensor], description: String = "in-memory weights") {
        memory = tensors
        self.description = description
    }

    /// A Hugging Face model folder: `model.safetensors`, or the shards named by `model.safetensors.index.json`.
    public convenience init(folder: URL) throws {
        let single = folder.appendingPathComponent("model.safetensors")
        let index = folder.appendingPathComponent("model.safetensors.index.json")
        let fm = FileManager.default
        if fm.fileExists(atPath: index.path) {
            guard let json = try JSONSerialization.jsonObject(with: Data(contentsOf: index)) as? [String: Any],
                  let map = json["weight_map"] as? [String: String] else {
                throw SafetensorsError.malformed(index.path, "no weight_map")
            }
            let shards = Set(map.values).sorted().map { folder.appendingPathComponent($0).path }
            for shard in shards where !fm.fileExists(atPath: shard) {
                throw SafetensorsError.cannotOpen(shard, "shard listed in \(index.lastPathComponent) is missing")
            }
            try self.init(files: shards)
        } else if fm.fileExists(atPath: single.path) {
            try self.init(files: [single.path])
        } else {
            throw SafetensorsError.cannotOpen(folder.path, "no model.safetensors or model.safetensors.index.json "
                + "(only safetensors checkpoints are supported)")
        }
    }

    public var keys: [String] { (Array(location.keys) + Array(memory.keys)).sorted() }

    public func contains(_ key: String) -> Bool { memory[key] != nil || location[key] != nil }

    /// Shape and dtype without materialising the tensor.
    public func info(_ key: String) -> (shape: [Int], dtype: DType)? {
        if let t = memory[key] { return (t.shape, t.dtype) }
        guard let i = location[key], let e = files[i].entries[key] else { return nil }
        return (e.shape, e.dtype)
    }

    public func tensor(_ key: String) throws -> Tensor {
        if let t = memory[key] { return t }
        guard let i = location[key] else { throw SafetensorsError.missingTensor(key, description) }
        return try files[i].tensor(key)
    }

    /// Adds or replaces an in-memory tensor (used for tied weights and random initialisation).
    public func set(_ key: String, _ tensor: Tensor) { memory[key] = tensor }
}
