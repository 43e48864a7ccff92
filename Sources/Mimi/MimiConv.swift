import Torch

public enum MimiPadMode: String, Sendable {
    case constant, replicate, reflect

    var torch: Tensor.PadMode {
        switch self {
        case .constant: return .constant
        case .replicate: return .replicate
        case .reflect: return .reflect
        }
    }
}

/// HF `MimiConv1d`: a Conv1d (weights under `conv.`) that pads its input itself. Causal: everything on the
/// left (`kernel − stride`, the effective kernel counting dilation). Otherwise split, the odd one on the left.
/// Either way an "extra padding" on the right completes the last window so that the output has
/// ceil(length / stride) steps.
final class MimiConv1d {
    let conv: Conv1d
    let causal: Bool
    let padMode: MimiPadMode
    let stride: Int
    /// Effective kernel size: (kernel − 1)·dilation + 1.
    let kernelSize: Int
    let paddingTotal: Int
    let paddingLeft: Int
    let paddingRight: Int

    init(_ vb: VarBuilder, config: MimiConfig, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
         dilation: Int = 1, groups: Int = 1, padMode: String? = nil, bias: Bool = true) throws {
        conv = try Conv1d(vb.pp("conv"), inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                          stride: stride, dilation: dilation, groups: groups, bias: bias)
        causal = config.useCausalConv
        let mode = padMode ?? config.padMode
        guard let parsed = MimiPadMode(rawValue: mode) else { throw MimiError.invalidConfig("pad_mode '\(mode)'") }
        self.padMode = parsed
        self.stride = stride
        self.kernelSize = (kernelSize - 1) * dilation + 1
        paddingTotal = self.kernelSize - stride
        paddingRight = paddingTotal / 2
        paddingLeft = paddingTotal - paddingRight
    }

    /// Zeros (or copies) appended on the right so the last window is complete (HF `_get_extra_padding_for_conv1d`).
    func extraPadding(_ length: Int) -> Int {
        let frames = ceilDiv(length - kernelSize + paddingTotal, stride)
        return frames * stride + kernelSize - paddingTotal - length
    }

    /// (left, right) padding applied to an input of `length`.
    func padding(_ length: Int) -> (left: Int, right: Int) {
        let extra = extraPadding(length)
        return causal ? (paddingTotal, extra) : (paddingLeft, paddingRight + extra)
    }

    func outputLength(_ length: Int) -> Int {
        let (left, right) = padding(length)
        return (length + left + right - kernelSize) / stride + 1
    }

    /// `x` (batch, channels, time). With `lengths`, samples are right-padded and shorter than `time`; their
    /// outputs past `outputLength(n)` are padding too.
    func callAsFunction(_ x: Tensor, lengths: ValidLengths? = nil) throws -> Tensor {
        var x = x
        if let lengths { x = try lengths.fillPadding(x, mode: padMode) }
        let (left, right) = padding(x.size(2))
        if padMode == .constant && left >= right {
            // Zero padding inside the conv (`left` on both sides) instead of a padded copy of the input: the
            // same sums, one memory pass less. The surplus outputs on the right are dropped.
            let y = try x.conv1d(conv.weight, bias: conv.bias, stride: conv.stride, padding: left,
                                 dilation: conv.dilation, groups: conv.groups)
            return try y.slice(2, 0, outputLength(x.size(2)))
        }
        return try conv(pad1d(x, left: left, right: right, mode: padMode))
    }
}

/// HF `MimiConvTranspose1d`: a ConvTranspose1d (weights under `conv.`) whose `kernel − stride` surplus
/// outputs are trimmed: causal, `ceil(total · trim_right_ratio)` on the right and the rest on the left;
/// otherwise split, the odd one on the left.
final class MimiConvTranspose1d {
    let conv: ConvTranspose1d
    let paddingLeft: Int
    let paddingRight: Int

    init(_ vb: VarBuilder, config: MimiConfig, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
         groups: Int = 1, bias: Bool = true) throws {
        conv = try ConvTranspose1d(vb.pp("conv"), inChannels: inChannels, outChannels: outChannels,
                                   kernelSize: kernelSize, stride: stride, groups: groups, bias: bias)
        let total = kernelSize - stride
        paddingRight = config.useCausalConv
            ? Int((Double(total) * config.trimRightRatio).rounded(.up))
            : total / 2
        paddingLeft = total - paddingRight
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try conv(x)
        return try y.slice(2, paddingLeft, y.size(2) - paddingRight)
    }
}

/// torch.nn.functional.pad along time, with HF's `_pad1d` guard: reflect needs more samples than the padding,
/// so short inputs get zeros on the right first (removed again afterwards).
func pad1d(_ x: Tensor, left: Int, right: Int, mode: MimiPadMode) throws -> Tensor {
    if left == 0 && right == 0 { return x }
    guard mode == .reflect else { return try x.pad([left, right], mode: mode.torch) }
    let length = x.size(2)
    let maxPad = max(left, right)
    let extra = length <= maxPad ? maxPad - length + 1 : 0
    let padded = try (extra > 0 ? x.pad([0, extra]) : x).pad([left, right], mode: .reflect)
    return try padded.slice(2, 0, padded.size(2) - extra)
}

/// ⌈a / b⌉ for b > 0 and any sign of a.
func ceilDiv(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? (a + b - 1) / b : -((-a) / b)
}
