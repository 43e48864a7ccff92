import Torch

/// Memory levers for LoRA training at full size (SPEC §4: "frozen base may be held in bf16").
extension CSMForConditionalGeneration {
    /// LoRA's frozen base: every projection of the backbone's and the depth decoder's decoder layers
    /// (q, k, v, o, gate, up, down: 1.08 of CSM-1B's 1.6 B weights) becomes a `FrozenLinear` holding its
    /// weight in `dtype`, multiplied with the f32 activations by `product`, under any LoRA wrapper already
    /// there. Embeddings, norms and heads stay as loaded, so rows of the 128k-token text table that no
    /// batch uses are never read from the memory map. Layers already frozen or quantized are left alone.
    /// Returns the bytes saved.
    @discardableResult
    public func storeDecoderLayers(as dtype: DType, product: FrozenProduct) throws -> Int {
        var saved = 0
        for slot in linearSlots where slot.path.contains(".layers.") {
            guard let dense = slot.base as? Linear else { continue }
            let frozen = try FrozenLinear(dense, dtype: dtype, product: product)
            slot.base = frozen
            saved += dense.weight.count * dense.weight.dtype.byteSize - frozen.weight.count * frozen.weight.dtype.byteSize
        }
        return saved
    }

    /// Activation checkpointing of the MLP of every decoder layer of the chosen stacks. The depth decoder's
    /// MLPs hold most of a step's activations: each of its 4 layers keeps 4 × 8192 floats for every
    /// (frame, codebook) position, 1.2 GB per layer at 300 frames; the backbone's see 32× fewer positions.
    /// Whether some decoder layer recomputes its MLP in backward.
    public var recomputesMLPs: Bool {
        (backboneModel.layers + depthDecoder.model.layers).contains { $0.recomputeMLP }
    }

    public func recomputeMLPs(backbone: Bool, depthDecoder depth: Bool) {
        for layer in backboneModel.layers { layer.recomputeMLP = backbone }
        for layer in depthDecoder.model.layers { layer.recomputeMLP = depth }
    }
}
