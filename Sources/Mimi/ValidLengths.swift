import Torch

/// The valid length of each sample in a right-padded batch laid out (batch, channels, time).
///
/// Why this is enough for batched encoding to equal one-clip-at-a-time encoding: every Mimi encoder conv is
/// causal, so output t reads inputs ≤ t·stride + stride − 1, and the transformer's mask is causal, so a
/// valid frame never looks right. The only places where a clip's end matters are the right "extra
/// padding" HF adds to complete the last conv window: alone, a clip is padded there with zeros (or with
/// its last value for `replicate`); in a batch those positions hold the neighbours' padding activations.
/// So before each conv we overwrite everything past each sample's length with exactly what HF would pad
/// with, and the first `outputLength(n)` outputs of each sample come out as if it were alone.
struct ValidLengths: Equatable {
    var values: [Int]

    init(_ values: [Int]) { self.values = values }

    func map(_ transform: (Int) -> Int) -> ValidLengths { ValidLengths(values.map(transform)) }

    /// `x` (batch, channels, time) with every position at or past a sample's length replaced by HF's padding
    /// value for `mode`: zero (constant) or the sample's last valid value (replicate).
    func fillPadding(_ x: Tensor, mode: MimiPadMode) throws -> Tensor {
        let time = x.size(2)
        guard values.contains(where: { $0 < time }) else { return x }
        let positions = try Tensor.arange(time, device: x.device).reshape([1, 1, time])
        let lengths = try Tensor(values, shape: [values.count, 1, 1]).to(x.device)
        switch mode {
        case .constant:
            return try x.maskedFill(positions.ge(lengths), 0)
        case .replicate:
            let last = try Tensor(values.map { Swift.max($0 - 1, 0) }, shape: [values.count, 1, 1]).to(x.device)
            let index = try positions.minimum(last).expand([values.count, x.size(1), time])
            return try x.gather(2, index.contiguous())
        case .reflect:
            throw MimiError.badInput("batched encoding with pad_mode 'reflect' is not supported; encode those clips one at a time")
        }
    }
}
