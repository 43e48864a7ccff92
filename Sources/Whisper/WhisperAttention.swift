import Torch

/// HF `ACT2FN` entries a Whisper config may name.
enum WhisperActivation {
    case gelu, geluTanh, relu, silu

    init(_ name: String, file: String) throws {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        case "silu", "swish": self = .silu
        default:
            throw WhisperError.invalidConfig("\(file): activation_function '\(name)' is not supported (gelu, gelu_new, relu, silu)")
        }
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .gelu: return try x.gelu()
        case .geluTanh: return try x.gelu(approximate: true)
        case .relu: return try x.relu()
        case .silu: return try x.silu()
        }
    }
}

/// HF `WhisperAttention` (keys `self_attn.` / `encoder_attn.`): q, v and out projections with biases, k without.
/// The query is scaled by head_dim^-0.5 before the product, as HF does (and the attention itself by 1).
final class WhisperAttention {
    let qProj: Linear, kProj: Linear, vProj: Linear, outProj: Linear
    let heads: Int, headDim: Int
    let scaling: Double

    init(_ vb: VarBuilder, dModel: Int, heads: Int) throws {
        self.heads = heads
        headDim = dModel / heads
        scaling = 1 / Double(headDim).squareRoot()
        qProj = try Linear(vb.pp("q_proj"), inFeatures: dModel, outFeatures: dModel)
        kProj = try Linear(vb.pp("k_proj"), inFeatures: dModel, outFeatures: dModel, bias: false)
        vProj = try Linear(vb.pp("v_proj"), inFeatures: dModel, outFeatures: dModel)
        outProj = try Linear(vb.pp("out_proj"), inFeatures: dModel, outFeatures: dModel)
    }

    /// (batch, time, dModel) → (batch, heads, time, headDim).
    func split(_ x: Tensor) throws -> Tensor {
        try x.view([x.size(0), x.size(1), heads, headDim]).transpose(1, 2)
    }

    /// Keys and values of `x` (batch, time, dModel), each (batch, heads, time, headDim): what a cache holds.
    func keysAndValues(_ x: Tensor) throws -> (keys: Tensor, values: Tensor) {
        (try split(kProj(x)), try split(vProj(x)))
    }

    /// Attention of `x` (batch, time, dModel) over `keys`/`values`; `mask` bool (time, keys), true = attend.
    func attend(_ x: Tensor, keys: Tensor, values: Tensor, mask: Tensor? = nil) throws -> Tensor {
        let (batch, time) = (x.size(0), x.size(1))
        let q = try split(qProj(x) * scaling)
        let y = try Tensor.scaledDotProductAttention(query: q, key: keys, value: values, mask: mask, scale: 1)
        return try outProj(y.transpose(1, 2).reshape([batch, time, heads * headDim]))
    }
}
