import Torch

extension CSMForConditionalGeneration {
    /// QLoRA's frozen base: every projection of the backbone's and the depth decoder's decoder layers
    /// (q, k, v, o, gate, up, down — nearly all the weights) becomes an `NF4Linear` with 64-value blocks,
    /// as bitsandbytes' `Linear4bit`, under any LoRA wrapper already there. Embeddings, norms and the heads
    /// stay as they are, as with `load_in_4bit` in transformers (which skips the output heads). Layers
    /// already frozen or quantized are left alone. Returns the bytes saved.
    @discardableResult
    public func quantizeDecoderLayers() throws -> Int {
        var saved = 0
        for slot in linearSlots where slot.path.contains(".layers.") {
            guard let dense = slot.base as? Linear else { continue }
            let quantized = try NF4Linear(dense)
            slot.base = quantized
            saved += dense.weight.count * dense.weight.dtype.byteSize - quantized.weight.byteCount
        }
        return saved
    }
}
