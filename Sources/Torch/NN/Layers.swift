/// Building blocks that take their weights from a `VarBuilder` under their Hugging Face names.
/// Each mirrors the torch.nn module of the same name, including its key names.

/// A change applied on top of a Linear layer's output (LoRA implements it).
public protocol LinearAdapter: AnyObject {
    /// Returns the adapted output given the layer input `x` and the frozen layer's output `base`.
    func callAsFunction(_ x: Tensor, base: Tensor) throws -> Tensor
}

/// y = x Wᵀ + b, weight (out, in) under `weight`, bias under `bias`.
///
/// After `quantize()` the frozen weight lives only as NF4 codes (`quantizedWeight`, QLoRA) and
/// `weight` is an empty placeholder: nothing may read it until the layer is rebuilt.
public final class Linear {
    public var weight: Tensor
    public var bias: Tensor?
    public var adapter: LinearAdapter?
    public private(set) var quantizedWeight: NF4Tensor?
    /// Set by `storeFrozen(as:product:)`: how the narrower frozen weight meets wider activations.
    public private(set) var frozenProduct: FrozenProduct?
    public let inFeatures: Int
    public let outFeatures: Int

    public init(_ vb: VarBuilder, inFeatures: Int, outFeatures: Int, bias: Bool = true) throws {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = try vb.get("weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? try vb.get("bias", shape: [outFeatures]) : nil
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y: Tensor
        if let quantizedWeight {
            y = try nf4Linear(x, weight: quantizedWeight, bias: bias)
        } else if let frozenProduct, weight.dtype != x.dtype {
            y = try frozenLinear(x, weight: weight, bias: bias, product: frozenProduct)
        } else {
            y = try x.linear(weight, bias: bias)
        }
        guard let adapter else { return y }
        return try adapter(x, base: y)
    }

    /// Replaces the weight by its NF4 quantization (bitsandbytes' 4-bit, 64-value blocks, with the
    /// block scales double-quantized as Unsloth's default), freeing the dense copy.
    public func quantize(blockSize: Int = NF4Tensor.defaultBlockSize, doubleQuant: Bool = true) throws {
        guard quantizedWeight == nil else { return }
        quantizedWeight = try NF4Tensor.quantize(weight, blockSize: blockSize, doubleQuant: doubleQuant)
        weight = try Tensor.empty([0], dtype: weight.dtype, device: weight.device)
    }

    /// Holds the frozen weight in `dtype` (bf16 for LoRA's base) and multiplies it with activations of
    /// another dtype by `product`. A weight borrowed from a memory-mapped file gives its pages back.
    public func storeFrozen(as dtype: DType, product: FrozenProduct) throws {
        frozenProduct = product
        guard weight.dtype != dtype else { return }
        let narrow = try weight.detach().to(dtype)
        try? weight.releaseMappedPages()  // throws for owned memory, which is freed with the tensor instead
        weight = narrow
    }
}

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

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.rmsNorm(weight: weight, eps: eps) }
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
