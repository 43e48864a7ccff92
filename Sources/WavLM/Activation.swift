import Torch

/// The `ACT2FN` entries WavLM checkpoints use, by their config name.
enum Activation {
    case gelu, geluTanh, relu, silu, tanh

    init(_ name: String) throws {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh": self = .geluTanh
        case "relu": self = .relu
        case "silu", "swish": self = .silu
        case "tanh": self = .tanh
        default: throw WavLMError.invalidConfig("activation '\(name)' is not supported (gelu, gelu_new, relu, silu, tanh)")
        }
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .gelu: return try x.gelu()
        case .geluTanh: return try x.gelu(approximate: true)
        case .relu: return try x.relu()
        case .silu: return try x.silu()
        case .tanh: return try x.tanh()
        }
    }
}
