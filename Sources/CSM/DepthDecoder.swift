import Torch

/// `CsmCodebooksHead`: one (hidden → vocab) matrix per codebook 1..<numCodebooks, weight (K-1, hidden, vocab).
public final class CodebooksHead {
    public var weight: Tensor
    /// Mixed precision: the dtype of the product (weight cast per use, as autocast); nil: hidden's own.
    public var compute: DType?

    init(_ vb: VarBuilder, _ c: CSMDepthDecoderConfig) throws {
        weight = try vb.get("weight", shape: [c.numCodebooks - 1, c.stack.hiddenSize, c.vocabSize])
    }

    /// hidden (N, L, hidden) at codebook positions `codebooks` (L values in 1..<K) → logits (N, L, vocab).
    public func callAsFunction(_ hidden: Tensor, codebooks: [Int]) throws -> Tensor {
        // Consecutive codebooks (always, in training and generation) select a view; others a copy.
        let w: Tensor  // (L, hidden, vocab)
        if let first = codebooks.first, codebooks == Array(first..<first + codebooks.count) {
            w = try weight.narrow(0, first - 1, codebooks.count)
        } else {
            w = try weight.indexSelect(0, Tensor(codebooks.map { Int64($0 - 1) }).to(weight.device))
        }
        return try hidden.autocast(compute).transpose(0, 1).matmul(w.autocast(compute)).transpose(0, 1)
    }
}

/// `CsmDepthDecoderModel`: a small decoder over the K codebooks of one frame. Position 0 is the backbone's
/// last hidden state; position i > 0 embeds codebook i-1's code from its own rows of `embed_tokens`.
public final class DepthDecoderModel {
    public let embedTokens: Embedding
    public var inputsEmbedsProjector: any LinearLayer
    public let stack: DecoderStack
    public var layers: [DecoderLayer] { stack.layers }
    public var norm: RMSNorm { stack.norm }
    let vocabSize: Int
    /// Mixed precision: the projector's dtype, and so that of the depth decoder's residual stream; nil: as loaded.
    public var compute: DType?

    init(_ vb: VarBuilder, _ c: CSMDepthDecoderConfig, embedTokens: Embedding) throws {
        self.embedTokens = embedTokens
        vocabSize = c.vocabSize
        inputsEmbedsProjector = try Linear(vb.pp("inputs_embeds_projector"), inFeatures: c.backboneHiddenSize,
                                           outFeatures: c.stack.hiddenSize, bias: false)
        stack = try DecoderStack(vb, c.stack)
    }

    /// ids (N, L) at positions past..<past+L; `backboneLastHidden` (N, backbone hidden) replaces position 0.
    public func callAsFunction(inputIds: Tensor, backboneLastHidden: Tensor?, caches: [any AttentionCache]? = nil) throws -> Tensor {
        let past = caches?.first?.count ?? 0
        let l = inputIds.size(1)
        let offsets = try Tensor((past..<past + l).map { Int64(Swift.max($0 - 1, 0) * vocabSize) }).to(inputIds.device)
        var embeds = try embedTokens(inputIds + offsets)
        if let h = backboneLastHidden, past == 0 {
            embeds = try Tensor.cat([h.unsqueeze(1).to(embeds.dtype), embeds.narrow(1, 1, l - 1)], dim: 1)
        }
        return try stack(inputsEmbedsProjector(embeds.autocast(compute)), mask: nil, caches: caches)
    }
}

/// `CsmDepthDecoderForCausalLM`.
public final class DepthDecoderForCausalLM {
    public let model: DepthDecoderModel
    public let codebooksHead: CodebooksHead

    init(_ vb: VarBuilder, _ c: CSMDepthDecoderConfig, embedTokens: Embedding) throws {
        model = try DepthDecoderModel(vb.pp("model"), c, embedTokens: embedTokens)
        codebooksHead = try CodebooksHead(vb.pp("codebooks_head"), c)
    }
}
