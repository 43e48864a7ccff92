import Torch

/// Mixed-precision training as `torch.autocast(dtype=torch.bfloat16)` (HF `--bf16`), spelled out per module:
/// the projections, attention, SiLU·up and the heads run in the compute dtype; embeddings, the backbone's
/// residual stream and rotary products, RMSNorm statistics and the cross-entropy stay f32 (as autocast
/// leaves them); LoRA weights, their gradients and AdamW's state stay f32.
extension CSMForConditionalGeneration {
    /// Sets the compute dtype of every module that runs a product (nil: each runs in its input's dtype,
    /// the exact f32 path), adapters attached later included.
    public func setComputeDType(_ dtype: DType?) {
        computeDType = dtype
        for layer in backboneModel.layers + depthDecoder.model.layers {
            layer.selfAttn.compute = dtype
            layer.mlp.compute = dtype
        }
        depthDecoder.model.compute = dtype
        depthDecoder.codebooksHead.compute = dtype
        for (_, lora) in loraAdapters { lora.compute = dtype }
    }
}
