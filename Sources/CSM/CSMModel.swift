import Foundation
import Torch

/// `CsmForConditionalGeneration` without the codec: the backbone predicts codebook 0 of each frame
/// (`lm_head`), the depth decoder the other codebooks. Property names mirror the checkpoint keys
/// (`lm_head` → `lmHead`, …) so the weights load by walking the module tree.
public final class CSMForConditionalGeneration {
    public let config: CSMConfig
    public var lmHead: any LinearLayer
    public let embedTextTokens: Embedding
    public let backboneModel: BackboneModel
    public let depthDecoder: DepthDecoderForCausalLM
    /// Mixed precision (`MixedPrecision.swift`): the dtype every product runs in; nil: the weights' own.
    public internal(set) var computeDType: DType?

    public static let backboneAudioKey = "backbone_model.embed_tokens.embed_audio_tokens"
    public static let depthEmbedKey = "depth_decoder.model.embed_tokens"

    /// Builds the model from `vb` (the checkpoint root). `codec_model.*` keys are left to the Mimi codec.
    public init(_ vb: VarBuilder, config c: CSMConfig) throws {
        try c.validate()
        config = c
        let d = c.depthDecoderConfig
        lmHead = try Linear(vb.pp("lm_head"), inFeatures: c.backbone.hiddenSize, outFeatures: c.vocabSize, bias: false)
        embedTextTokens = try Embedding(vb.pp("embed_text_tokens"), count: c.textVocabSize, dimension: c.backbone.hiddenSize)
        let audioRows = c.numCodebooks * c.vocabSize
        // Tied (the default): transformers stores the table once, under the depth decoder's key, and the
        // backbone uses the same tensor; either key is accepted here.
        let backboneAudio: Embedding, depthEmbed: Embedding
        if c.tieCodebooksEmbeddings {
            let key = vb.contains(Self.depthEmbedKey + ".weight") || !vb.contains(Self.backboneAudioKey + ".weight")
                ? Self.depthEmbedKey : Self.backboneAudioKey
            backboneAudio = try Embedding(vb.pp(key), count: audioRows, dimension: c.backbone.hiddenSize)
            depthEmbed = backboneAudio
        } else {
            backboneAudio = try Embedding(vb.pp(Self.backboneAudioKey), count: audioRows, dimension: c.backbone.hiddenSize)
            depthEmbed = try Embedding(vb.pp(Self.depthEmbedKey), count: audioRows, dimension: d.backboneHiddenSize)
        }
        backboneModel = try BackboneModel(vb.pp("backbone_model"), c, audioEmbedding: backboneAudio)
        depthDecoder = try DepthDecoderForCausalLM(vb.pp("depth_decoder"), d, embedTokens: depthEmbed)
    }

    /// Loads `config.json` and the safetensors weights (single file or sharded) of a checkpoint folder.
    /// - dtype: converts floating weights (nil keeps the stored f32/bf16/f16).
    public static func load(folder: URL, dtype: DType? = nil, device: Device = .cpu) throws -> CSMForConditionalGeneration {
        try load(folder: folder, dtype: dtype, device: device, keepsStoredDType: nil)
    }

    /// `load(folder:dtype:device:)` with the decoder layers' projections quantized (`quantizeProjections`). They are
    /// read in their stored dtype and quantized one at a time, each giving its file pages back, so no `dtype` copy of
    /// them is ever made: for CSM-1B's f32 file at `dtype` bf16, 2.6 GB resident at the peak instead of 9.2 GB, and
    /// int8/int4 codes made from the f32 weights rather than from their bf16 rounding.
    public static func load(folder: URL, dtype: DType? = nil, device: Device = .cpu,
                            quantization scheme: WeightQuantization) throws -> (model: CSMForConditionalGeneration,
                                                                                report: ProjectionQuantizationReport) {
        let model = try load(folder: folder, dtype: dtype, device: device, keepsStoredDType: { key in
            // `…layers.N.self_attn.q_proj.weight`, `…layers.N.mlp.up_proj.weight`: not the layers' norms
            key.hasSuffix("_proj.weight") && Self.isQuantizable(projection: String(key.dropLast(".weight".count)))
        })
        let report = try model.quantizeProjections(scheme)
        // Projections the scheme's kernel does not take stay dense: in `dtype`, like every other weight.
        if let dtype {
            for slot in model.linearSlots where report.skipped.contains(slot.path) {
                guard let dense = slot.base as? Linear, dense.weight.dtype != dtype else { continue }
                dense.weight = try dense.weight.to(dtype)
                dense.bias = try dense.bias?.to(dtype)
            }
        }
        return (model, report)
    }

    private static func load(folder: URL, dtype: DType?, device: Device,
                             keepsStoredDType: ((String) -> Bool)?) throws -> CSMForConditionalGeneration {
        let config = try CSMConfig.load(folder.appendingPathComponent("config.json"))
        let store = try WeightStore(folder: folder)
        // A `csm quantize` folder: its projections are codes, put in place once the layers are built.
        let quantized = try QuantizedFolder.scheme(in: folder)
        if let quantized { try QuantizedFolder.addPlaceholders(store, scheme: quantized, dtype: dtype ?? .f32) }
        let vb = VarBuilder(store: store, dtype: dtype, device: device, keepsStoredDType: keepsStoredDType)
        let model = try CSMForConditionalGeneration(vb, config: config)
        if let quantized { try QuantizedFolder.attach(model, store: store, scheme: quantized, device: device) }
        return model
    }

    // Read from a table: unlike the projections, tables are never narrowed or quantized.
    public var device: Device { embedTextTokens.weight.device }
    public var dtype: DType { embedTextTokens.weight.dtype }

    /// Input embeddings (batch, seq, hidden): text rows from `embed_text_tokens`, audio positions (frames and
    /// audio-end) from the summed codebook embeddings, as `_merge_input_ids_with_input_values`.
    public func embed(_ batch: CSMBatch) throws -> Tensor {
        let text = try embedTextTokens(batch.inputIds)
        let audio = try backboneModel.embedTokens(batch.codes)
        return try Tensor.where(batch.isAudio.unsqueeze(-1), audio, text)
    }

    /// The backbone's normed last hidden state (batch, seq, hidden) and codebook-0 logits (batch, seq, vocab).
    public func forward(_ batch: CSMBatch) throws -> (hidden: Tensor, logits: Tensor) {
        let mask = try batch.isPadded
            ? attentionMask(cached: 0, new: batch.length, keyValid: batch.valid, device: device) : nil
        let hidden = try backboneModel(inputsEmbeds: embed(batch), mask: mask)
        return (hidden, try lmHead(hidden.autocast(computeDType)))
    }

    /// Depth-decoder logits (N, K-1, vocab) for codebooks 1..<K of N frames, given each frame's backbone
    /// hidden state (N, hidden) and its codes 0..<K-1 (N, K-1), teacher-forced as in training.
    public func depthLogits(backboneHidden: Tensor, codes: Tensor) throws -> Tensor {
        let ids = try codes.pad([1, 0], value: 0)  // position 0: placeholder replaced by the hidden state
        let h = try depthDecoder.model(inputIds: ids, backboneLastHidden: backboneHidden)
        let k = config.numCodebooks
        return try depthDecoder.codebooksHead(h.narrow(1, 1, k - 1), codebooks: Array(1..<k))
    }
}
