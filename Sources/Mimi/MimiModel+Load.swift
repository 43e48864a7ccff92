import Foundation
import Torch

extension MimiModel {
    /// Where a Mimi lives inside a Hugging Face folder.
    public struct Checkpoint {
        public var config: MimiConfig
        /// Weight key prefix: `codec_model` inside a CSM checkpoint, empty for a standalone MimiModel.
        public var prefix: String
        /// CSM's `num_codebooks` (the codes CSM trains on), or the codec's `num_quantizers` when standalone.
        public var numCodebooks: Int

        /// Reads `config.json` of a CSM checkpoint (its `codec_config`) or of a standalone MimiModel.
        public init(folder: URL) throws {
            let file = folder.appendingPathComponent("config.json")
            guard let data = try? Data(contentsOf: file) else {
                throw MimiError.cannotLoad("\(file.path) is missing or unreadable: pass a CSM or Mimi model folder")
            }
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw MimiError.cannotLoad("\(file.path) is not a JSON object")
            }
            let decoder = JSONDecoder()
            do {
                if let codec = json["codec_config"] as? [String: Any] {
                    config = try decoder.decode(MimiConfig.self, from: JSONSerialization.data(withJSONObject: codec))
                    prefix = "codec_model"
                    numCodebooks = json["num_codebooks"] as? Int ?? 32
                } else if (json["model_type"] as? String) == "mimi" || json["upsampling_ratios"] != nil {
                    config = try decoder.decode(MimiConfig.self, from: data)
                    prefix = ""
                    numCodebooks = config.numQuantizers
                } else {
                    throw MimiError.cannotLoad("\(file.path) is neither a CSM config (no codec_config) nor a Mimi config")
                }
            } catch let error as MimiError {
                throw error
            } catch {
                throw MimiError.cannotLoad("\(file.path): \(error)")
            }
        }
    }

    /// Loads the codec of a local CSM checkpoint folder (`codec_model.*` weights) or of a MimiModel folder.
    public static func load(folder: URL, device: Device = .cpu) throws -> MimiModel {
        let checkpoint = try Checkpoint(folder: folder)
        let store = try WeightStore(folder: folder)
        var vb = VarBuilder(store: store, dtype: .f32, device: device)
        if !checkpoint.prefix.isEmpty { vb = vb.pp(checkpoint.prefix) }
        return try MimiModel(vb, config: checkpoint.config, numCodebooks: checkpoint.numCodebooks)
    }
}
