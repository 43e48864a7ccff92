import Torch

/// Codebooks 1..<K of one frame per row from the depth decoder (`CsmDepthDecoderForCausalLM.generate`), on the
/// device, all rows in one pass (each step reads the decoder's weights once for every row): position 0 is the row's
/// backbone hidden state, position 1 its codebook 0; each step's last hidden state gives the next code, which is
/// embedded from its codebook's rows of `embed_tokens` for the next step. Every row is at the same position, so no
/// mask. What every frame reuses is made once per generation: KV caches (emptied per frame), the rotary cos/sin of each step's positions
/// (the same ops the decoder would run per step, so the same values), and views of each codebook's embedding rows
/// and head matrix.
final class DepthFrameDecoder {
    let model: DepthDecoderForCausalLM
    let numCodebooks: Int
    let caches: [KVCache]
    /// Codebook c's rows of `embed_tokens`: (vocab, hidden), views.
    let embeddings: [Tensor]
    /// `CsmCodebooksHead`'s matrix for codebook c at [c - 1]: (hidden, vocab) views (no gather of the weight), or,
    /// where `headsTransposed`, (vocab, hidden) contiguous copies used as `linear` weights.
    let heads: [Tensor]
    /// On a CPU without bf16 arithmetic libtorch multiplies a 16-bit row by a (hidden, vocab) matrix ~20× slower
    /// than by its (vocab, hidden) transpose (1024 × 2051 bf16 on an AVX2 EPYC: 4.7 ms vs 0.22 ms, 31 times a
    /// frame), so there the heads are copied once per generator in the fast layout (130 MB for CSM-1B in bf16).
    let headsTransposed: Bool
    /// [0]: positions 0 and 1 (the first step); [c]: position c + 1 (the step that reads codebook c).
    private var rope: [(cos: Tensor, sin: Tensor)] = []

    /// `transposeHeads`: the head layout (tests); nil picks the faster one for the weights' dtype and device.
    init(model csm: CSMForConditionalGeneration, transposeHeads: Bool? = nil) throws {
        let depth = csm.depthDecoder, k = csm.config.numCodebooks
        let vocab = depth.model.vocabSize, table = depth.model.embedTokens.weight, head = depth.codebooksHead.weight
        model = depth
        numCodebooks = k
        // At most K positions of a small decoder: growing by `cat` costs one kernel per step, as writing in place
        // does, without the two views per tensor a static buffer needs (measured faster on the CPU); the backbone's
        // caches, thousands of positions long, are the static ones.
        caches = depth.model.layers.map { _ in KVCache() }
        embeddings = try (0..<k - 1).map { try table.narrow(0, $0 * vocab, vocab) }
        headsTransposed = transposeHeads ?? (head.dtype != .f32 && head.device == .cpu && !head.device.hasBF16Arithmetic)
        heads = try (0..<k - 1).map { [headsTransposed] in
            let h = try head.select(0, $0)
            return headsTransposed ? try h.transpose(0, 1).contiguous() : h
        }
    }

    /// backboneHidden (rows, backbone hidden), code0 (rows,) int64 → the frames' codes (rows, K) int64, on the device;
    /// row r's codebooks drawn with `sampling[r]` from `rngs[r]`, as `TokenSampler.sample(rows:…)`.
    func callAsFunction(backboneHidden: Tensor, code0: Tensor, _ sampling: [Sampling],
                        rngs: inout [SeededRandom]) throws -> Tensor {
        let decoder = model.model, k = numCodebooks, n = code0.size(0)
        for cache in caches { cache.reset() }
        let code0Embedding = try embeddings[0].embedding(code0.view([n, 1]))  // (rows, 1, hidden)
        var x = try decoder.inputsEmbedsProjector(
            Tensor.cat([backboneHidden.unsqueeze(1).to(code0Embedding.dtype), code0Embedding], dim: 1))
        try prepareRope(dtype: x.dtype, device: x.device)
        var h = try decoder.stack(x, mask: nil, caches: caches, rope: rope[0])
        var codes = [code0]
        for codebook in 1..<k {
            let last = try h.select(1, h.size(1) - 1)
            let logits = try headsTransposed ? last.linear(heads[codebook - 1]) : last.matmul(heads[codebook - 1])  // (rows, vocab)
            let code = try TokenSampler.sample(rows: logits, sampling, rngs: &rngs)
            codes.append(code)
            if codebook < k - 1 {
                x = try decoder.inputsEmbedsProjector(embeddings[codebook].embedding(code.view([n, 1])))
                h = try decoder.stack(x, mask: nil, caches: caches, rope: rope[codebook])
            }
        }
        return try Tensor.stack(codes, dim: 1)
    }

    private func prepareRope(dtype: DType, device: Device) throws {
        if let first = rope.first, first.cos.dtype == dtype, first.cos.device == device { return }
        let rotary = model.model.stack.rotaryEmb
        rope = [try rotary(start: 0, count: 2, dtype: dtype, device: device)]
        for codebook in 1..<numCodebooks - 1 {
            rope.append(try rotary(start: codebook + 1, count: 1, dtype: dtype, device: device))
        }
    }
}
