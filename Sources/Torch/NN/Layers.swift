/// Building blocks that take their weights from a `VarBuilder` under their Hugging Face names.
/// Each mirrors the torch.nn module of the same name, including its key names.

public final class Embedding {
    public var weight: Tensor

    public init(_ vb: VarBuilder, count: Int, dimension: Int) throws {
        weight = try vb.get("weight", shape: [count, dimension])
    }

    public func callAsFunction(_ ids: Tensor) throws -> Tensor { try weight.embedding(ids) }
}

public final class RMSNorm {
    public var weight: Tensor
    public let eps: Double

    public init(_ vb: VarBuilder, dimension: Int, eps: Double) throws {
        weight = try vb.get("weight", shape: [dimension])
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.dtype != weight.dtype else { return try x.rmsNorm(weight: weight, eps: eps) }
        // Mixed dtypes (bf16 activations, f32 weight) as transformers' LlamaRMSNorm: statistics in f32, the
        // normalised value rounded back to x's dtype, then the weight's product promotes it to f32.
        return try x.to(.f32).rmsNorm(weight: nil, eps: eps).to(x.dtype) * weight
    }
}

public final class LayerNorm {
    public var weight: Tensor
    public var bias: Tensor?
    public let eps: Double

    public init(_ vb: VarBuilder, dimension: Int, eps: Double, bias: Bool = true) throws {
        weight = try vb.get("weight", shape: [dimension])
        self.bias = bias ? try vb.get("bias", shape: [dimension]) : nil
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.layerNorm(weight: weight, bias: bias, eps: eps) }
}

/// 1-D convolution on (batch, channels, time); weight (out, in/groups, kernel). Padding here is
/// torch's symmetric `padding`; models with causal or asymmetric padding pad before calling.
public final class Conv1d {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: Int, padding: Int, dilation: Int, groups: Int

    public init(_ vb: VarBuilder, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true) throws {
        weight = try vb.get("weight", shape: [outChannels, inChannels / groups, kernelSize])
        self.bias = bias ? try vb.get("bias", shape: [outChannels]) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    public var kernelSize: Int { weight.size(2) }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.conv1d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// Transposed 1-D convolution; weight (in, out/groups, kernel).
public final class ConvTranspose1d {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: Int, groups: Int

    public init(_ vb: VarBuilder, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
                groups: Int = 1, bias: Bool = true) throws {
        weight = try vb.get("weight", shape: [inChannels, outChannels / groups, kernelSize])
        self.bias = bias ? try vb.get("bias", shape: [outChannels]) : nil
        self.stride = stride
        self.groups = groups
    }

    public var kernelSize: Int { weight.size(2) }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.convTranspose1d(weight, bias: bias, stride: stride, groups: groups)
    }
}
