import Foundation
import Torch

/// HF `WhisperForConditionalGeneration`: `model.encoder`, `model.decoder`, and `proj_out` (tied to
/// `model.decoder.embed_tokens` unless the checkpoint stores its own and unties them).
public final class WhisperModel {
    public let config: WhisperConfig
    let encoder: WhisperEncoder
    let decoder: WhisperDecoder
    /// (vocab, dModel): the output projection's weight.
    let projOut: Tensor
    /// Every weight, by checkpoint key (for the memory report).
    public let parameters: ParameterTable

    public init(_ vb: VarBuilder, config: WhisperConfig) throws {
        self.config = config
        encoder = try WhisperEncoder(vb.pp("model").pp("encoder"), config: config)
        decoder = try WhisperDecoder(vb.pp("model").pp("decoder"), config: config)
        if !config.tieWordEmbeddings, vb.contains("proj_out.weight") {
            projOut = try vb.pp("proj_out").get("weight", shape: [config.vocabSize, config.dModel])
        } else {
            projOut = decoder.embedTokens.weight
        }
        parameters = vb.parameters
    }

    /// Loads `config.json` and the safetensors weights of a Whisper folder.
    public static func load(folder: URL, device: Device = .cpu, dtype: DType = .f32) throws -> WhisperModel {
        let config = try WhisperConfig.load(folder: folder)
        let store: WeightStore
        do {
            store = try WeightStore(folder: folder)
        } catch {
            throw WhisperError.cannotLoad("\(folder.path): \(error)")
        }
        return try WhisperModel(VarBuilder(store: store, dtype: dtype, device: device), config: config)
    }

    public var device: Device { projOut.device }
    public var dtype: DType { projOut.dtype }

    /// Bytes of every distinct weight (the tied projection counted once).
    public var parameterBytes: Int {
        parameters.all.reduce(0) { $0 + $1.tensor.count * $1.tensor.dtype.byteSize }
    }

    /// Log-mel features (batch, mel bins, 3000) → encoder states (batch, 1500, dModel).
    public func encode(_ features: Tensor) throws -> Tensor {
        try encoder(features.to(device, dtype: dtype))
    }

    /// A fresh decoder cache holding the cross-attention keys and values of `encoderStates`.
    public func makeCache(encoderStates: Tensor) throws -> WhisperDecoderCache {
        try decoder.makeCache(encoderStates: encoderStates)
    }

    /// Logits (batch, time, vocab) f32 of `ids` (batch, time) at the positions after the cached ones.
    public func decode(_ ids: Tensor, cache: WhisperDecoderCache) throws -> Tensor {
        try decoder(ids, cache: cache).linear(projOut).to(.f32)
    }

    /// Teacher-forced logits (batch, time, vocab) of decoder inputs `ids` (batch, time) over `features`: what
    /// `WhisperForConditionalGeneration(input_features=…, decoder_input_ids=…).logits` gives.
    public func logits(features: Tensor, decoderIds ids: Tensor) throws -> Tensor {
        let cache = try makeCache(encoderStates: encode(features))
        return try decode(ids.to(device), cache: cache)
    }
}
