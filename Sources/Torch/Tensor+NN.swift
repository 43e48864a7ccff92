import CTorch

/// Neural-network functions (torch.nn.functional equivalents).
extension Tensor {
    public func matmul(_ other: Tensor) throws -> Tensor { try wrap(ct_matmul(handle, other.handle)) }

    /// `self @ weight.T + bias`, weight laid out (out, in) as nn.Linear.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        try wrap(ct_linear(handle, weight.handle, bias?.handle))
    }

    public func softmax(_ dim: Int) throws -> Tensor { try wrap(ct_softmax(handle, Int64(dim))) }
    public func logSoftmax(_ dim: Int) throws -> Tensor { try wrap(ct_log_softmax(handle, Int64(dim))) }

    public enum Reduction: Int32 { case none = 0, mean = 1, sum = 2 }

    /// Cross-entropy of logits (N, C) against class indices (N); targets equal to `ignoreIndex`
    /// contribute nothing (and are left out of the mean), as torch.nn.functional.cross_entropy.
    public func crossEntropy(_ target: Tensor, ignoreIndex: Int = -100, reduction: Reduction = .mean) throws -> Tensor {
        try wrap(ct_cross_entropy(handle, target.handle, Int64(ignoreIndex), reduction.rawValue))
    }

    /// Rows of `self` (an embedding table) picked by integer `indices`.
    public func embedding(_ indices: Tensor) throws -> Tensor { try wrap(ct_embedding(handle, indices.handle)) }

    /// Input (batch, channels, time); weight (out, in/groups, kernel).
    public func conv1d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                       groups: Int = 1) throws -> Tensor {
        try wrap(ct_conv1d(handle, weight.handle, bias?.handle, Int64(stride), Int64(padding), Int64(dilation), Int64(groups)))
    }

    /// Input (batch, channels, time); weight (in, out/groups, kernel).
    public func convTranspose1d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                outputPadding: Int = 0, groups: Int = 1, dilation: Int = 1) throws -> Tensor {
        try wrap(ct_conv_transpose1d(handle, weight.handle, bias?.handle, Int64(stride), Int64(padding),
                                     Int64(outputPadding), Int64(groups), Int64(dilation)))
    }

    /// Scaled dot-product attention on (batch, heads, seq, head_dim). `mask` is boolean (true =
    /// attend) or additive; with `enableGQA` key/value may have fewer heads that divide q's.
    public static func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil,
                                                 dropout: Double = 0, isCausal: Bool = false, scale: Double? = nil,
                                                 enableGQA: Bool = false) throws -> Tensor {
        try wrap(ct_sdpa(query.handle, key.handle, value.handle, mask?.handle, dropout, isCausal ? 1 : 0,
                         scale ?? 0, enableGQA ? 1 : 0))
    }

    /// RMSNorm over the last dim: x / sqrt(mean(x²) + eps) * weight.
    public func rmsNorm(weight: Tensor?, eps: Double) throws -> Tensor {
        try wrap(ct_rms_norm(handle, weight?.handle, eps))
    }

    /// LayerNorm over the last dim.
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Double) throws -> Tensor {
        try wrap(ct_layer_norm(handle, weight?.handle, bias?.handle, eps))
    }

    public func dropout(_ p: Double, training: Bool) throws -> Tensor {
        if p == 0 || !training { return self }
        return try wrap(ct_dropout(handle, p, 1))
    }

    /// Dropout whose mask is drawn from `generator` instead of the default one (inverted dropout, as
    /// `dropout`: kept elements scaled by 1/(1-p)). Inside `checkpoint`, name the generator in
    /// `preserving:` so the recomputation draws the same mask.
    public func dropout(_ p: Double, training: Bool, generator: TorchGenerator) throws -> Tensor {
        if p == 0 || !training { return self }
        let keep = try Tensor.empty(shape, dtype: dtype, device: device)
        try withExtendedLifetime(generator) { try check(ct_bernoulli_(keep.handle, 1 - p, generator.handle)) }
        return try self * keep * (1 / (1 - p))
    }
}
