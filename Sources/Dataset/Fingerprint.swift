import Foundation
import Mimi
import Torch

/// What identifies the tokenizer and codec a preprocessed set was made with. Training refuses a set whose
/// fingerprint differs from the model's (its codes or ids would mean something else).
public struct Fingerprint: Codable, Equatable, Sendable {
    /// SHA-256 of `tokenizer.json`.
    public var tokenizer: String
    /// SHA-256 over the codec's config and its weights (names, dtypes, shapes and bytes).
    public var codec: String

    public init(tokenizer: String, codec: String) {
        self.tokenizer = tokenizer
        self.codec = codec
    }
}

extension Fingerprint {
    /// SHA-256 of `tokenizer.json`, and SHA-256 over the codec's config (canonical JSON) and each of its
    /// weights (name, dtype, shape, bytes) in name order: a re-saved file with the same values keeps its
    /// fingerprint, any changed value changes it.
    public static func of(modelFolder folder: URL) throws -> Fingerprint {
        let tokenizerURL = folder.appendingPathComponent("tokenizer.json")
        guard let tokenizerData = try? Data(contentsOf: tokenizerURL) else {
            throw DatasetError.invalidArgument("\(tokenizerURL.path): missing or unreadable; the model folder needs its tokenizer")
        }
        let checkpoint = try MimiModel.Checkpoint(folder: folder)
        var codec = SHA256()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        codec.update([UInt8](try encoder.encode(checkpoint.config)))
        codec.update("num_codebooks=\(checkpoint.numCodebooks)\n")
        let store = try WeightStore(folder: folder)
        let prefix = checkpoint.prefix.isEmpty ? "" : checkpoint.prefix + "."
        for key in store.keys where key.hasPrefix(prefix) {
            let tensor = try store.tensor(key)
            codec.update("\(key)\t\(tensor.dtype)\t\(tensor.shape)\n")
            try tensor.bytes().withUnsafeBytes { codec.update($0) }
        }
        return Fingerprint(tokenizer: SHA256.hex([UInt8](tokenizerData)), codec: codec.finalize())
    }
}
