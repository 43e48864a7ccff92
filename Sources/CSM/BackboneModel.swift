import Torch

/// `CsmBackboneModelEmbeddings`: one table for all codebooks; codebook c's code t is row c·vocab + t,
/// and a frame's embedding is the sum over its codebooks.
public final class BackboneEmbeddings {
    public let embedAudioTokens: Embedding
    let offsets: Tensor  // (numCodebooks,) c·vocab

    init(embedAudioTokens: Embedding, numCodebooks: Int, vocabSize: Int) throws {
        self.embedAudioTokens = embedAudioTokens
        offsets = try Tensor((0..<numCodebooks).map { Int64($0 * vocabSize) })
    }

    /// codes (…, numCodebooks) → (…, hidden).
    public func callAsFunction(_ codes: Tensor) throws -> Tensor {
        try embedAudioTokens(codes + offsets.to(codes.device)).sum(-2)
    }
}

/// `CsmBackboneModel`: the Llama-3.2-style decoder over text and audio-frame embeddings.
public final class BackboneModel {
    public let embedTokens: BackboneEmbeddings
    public let stack: DecoderStack
    public var layers: [DecoderLayer] { stack.layers }
    public var norm: RMSNorm { stack.norm }

    init(_ vb: VarBuilder, _ c: CSMConfig, audioEmbedding: Embedding) throws {
        embedTokens = try BackboneEmbeddings(embedAudioTokens: audioEmbedding, numCodebooks: c.numCodebooks,
                                             vocabSize: c.vocabSize)
        stack = try DecoderStack(vb, c.backbone)
    }

    /// Last hidden state (normed) for `inputsEmbeds` (batch, seq, hidden).
    public func callAsFunction(inputsEmbeds: Tensor, mask: Tensor?, caches: [any AttentionCache]? = nil) throws -> Tensor {
        try stack(inputsEmbeds, mask: mask, caches: caches)
    }
}
