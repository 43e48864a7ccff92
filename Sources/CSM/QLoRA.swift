import Torch

extension CSMForConditionalGeneration {
    /// QLoRA's frozen base: every projection of the backbone's and the depth decoder's decoder layers
    /// (q, k, v, o, gate, up, down — nearly all the weights) becomes NF4 with 64-value blocks, as
    /// bitsandbytes' `Linear4bit`. Embeddings, norms and the heads stay as they are, as with
    /// `load_in_4bit` in transformers (which skips the output heads). Returns the bytes saved.
    @discardableResult
    public func quantizeDecoderLayers() throws -> Int {
        var saved = 0
        for (path, linear) in namedLinears where path.contains(".layers.") && linear.quantizedWeight == nil {
            let before = linear.weight.count * linear.weight.dtype.byteSize
            try linear.quantize()
            saved += before - (linear.quantizedWeight?.byteCount ?? 0)
        }
        return saved
    }
}
