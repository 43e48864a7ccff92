import Foundation
import Torch

/// A model folder whose decoder-layer projections are stored quantized (`csm quantize`), so that a load
/// skips quantizing. Everything else is an ordinary checkpoint folder (config, tokenizer, processor files,
/// the other weights and the codec as the base stored them); per quantized projection `P`, `P.weight` is
/// absent and in its place
///
/// - int8: `P.qweight` int8 (out, in) and `P.scales` float32 (out) (`Int8Linear`);
/// - int4: `P.qweight` uint8 (out, in/2) in libtorch's CPU packing (`_convert_weight_to_int4pack_for_cpu`,
///   inner k-tiles 1; opaque, read only by `_weight_int4pack_mm_for_cpu`, so such a folder is for CPUs and
///   libtorch ≥ 2.6's layout) and `P.scales_and_zeros` float32 (in/group, out, 2) (`Int4Linear`).
///
/// `quantization.json` says which: `{"quant_method": "csm-swift-weight-only", "scheme": "int8"|"int4",
/// "group_size": 64, "projections": [...]}`. transformers cannot load such a folder; `csm generate` can.
public enum QuantizedFolder {
    public static let fileName = "quantization.json"
    static let method = "csm-swift-weight-only"

    struct Description: Codable {
        var quant_method: String
        var scheme: String
        var group_size: Int?
        var int4_packing: String?
        var projections: [String]
    }

    /// The scheme `folder` was written with, or nil for an ordinary checkpoint.
    public static func scheme(in folder: URL) throws -> WeightQuantization? {
        let url = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let d: Description
        do { d = try JSONDecoder().decode(Description.self, from: Data(contentsOf: url)) } catch {
            throw TorchError("\(url.path): not a csm quantization description (\(error))")
        }
        guard d.quant_method == method else {
            throw TorchError("\(url.path): quant_method '\(d.quant_method)' is not \(method)")
        }
        return try WeightQuantization(name: d.scheme, groupSize: d.group_size ?? Int4Linear.defaultGroupSize)
    }

    /// Stand-ins for the dense weights the folder does not hold, so that the model's layers can be built:
    /// one zero broadcast to the weight's shape (no memory), replaced by `attach` right after.
    static func addPlaceholders(_ store: WeightStore, scheme: WeightQuantization, dtype: DType) throws {
        for key in store.keys where key.hasSuffix(".qweight") {
            let path = String(key.dropLast(".qweight".count))
            guard let info = store.info(key) else { continue }
            let shape = scheme == .int8 ? info.shape : [info.shape[0], info.shape[1] * 2]
            store.set(path + ".weight", try Tensor.zeros([1, 1], dtype: dtype).expand(shape))
        }
    }

    /// Puts the stored quantized layers into `model`'s slots.
    static func attach(_ model: CSMForConditionalGeneration, store: WeightStore, scheme: WeightQuantization,
                       device: Device) throws {
        if case .int4 = scheme, device != .cpu {
            throw TorchError("this folder holds int4 projections in libtorch's CPU packing: load it with --device cpu")
        }
        for slot in model.linearSlots where store.contains(slot.path + ".qweight") {
            let q = try store.tensor(slot.path + ".qweight").to(device)
            let bias = slot.base.bias
            switch scheme {
            case .int8:
                slot.base = try Int8Linear(codes: q, scales: store.tensor(slot.path + ".scales").to(device), bias: bias)
            case .int4(let g):
                slot.base = try Int4Linear(packed: q, scalesAndZeros: store.tensor(slot.path + ".scales_and_zeros").to(device),
                                           groupSize: g, bias: bias)
            }
        }
    }

    /// Writes `model` (its projections quantized with `scheme` by `quantizeProjections`) to `folder`: the
    /// base checkpoint's tensors, less the dense weights of the quantized projections, plus their codes and
    /// scales; config.json, the processor files and `quantization.json`.
    public static func save(_ model: CSMForConditionalGeneration, scheme: WeightQuantization, baseFolder: URL,
                            to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var tensors = [String: Tensor]()
        var projections = [String]()
        for slot in model.linearSlots {
            switch slot.base {
            case let l as Int8Linear:
                tensors[slot.path + ".qweight"] = try l.codes.to(.cpu).contiguous()
                tensors[slot.path + ".scales"] = try l.scales.to(.cpu).contiguous()
            case let l as Int4Linear:
                tensors[slot.path + ".qweight"] = try l.packed.to(.cpu).contiguous()
                tensors[slot.path + ".scales_and_zeros"] = try l.scalesAndZeros.to(.cpu).contiguous()
            default: continue
            }
            projections.append(slot.path)
        }
        let skip = Set(projections.map { $0 + ".weight" })
        let base = try WeightStore(folder: baseFolder)
        for key in base.keys where !skip.contains(key) { tensors[key] = try base.tensor(key) }
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent("model.safetensors"))
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors.index.json"))
        try FullModel.copy("config.json", from: baseFolder, to: folder)
        try FullModel.copyProcessorFiles(from: baseFolder, to: folder)
        var d = Description(quant_method: method, scheme: "int8", group_size: nil, int4_packing: nil, projections: projections)
        if case .int4(let g) = scheme {
            d.scheme = "int4"
            d.group_size = g
            d.int4_packing = "torch._convert_weight_to_int4pack_for_cpu, inner_k_tiles 1; (code - 8) * scale + zero"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(encoder.encode(d), to: folder.appendingPathComponent(fileName))
    }
}
