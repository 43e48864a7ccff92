import Torch

/// Picks a code from one row of logits exactly as transformers' sampling step: the logits in float32,
/// `TemperatureLogitsWarper` (divide), `TopKLogitsWarper` (every score below the k-th largest becomes -inf,
/// so ties with the k-th stay), softmax, one multinomial draw. The draw is an inverse CDF at a uniform from
/// `SeededRandom` (never torch's generator), computed on the logits' device: the code stays there as a
/// one-element tensor, so a frame's codes need no read back to the host one by one.
enum TokenSampler {
    /// logits: (vocab,) in any float dtype, on any device → the code, (1,) int64 on that device. Draws one uniform
    /// from `rng` when sampling (none when greedy), so the stream advances as it did when the draw ran on the host.
    static func sample(_ logits: Tensor, _ s: Sampling, rng: inout SeededRandom) throws -> Tensor {
        var scores = try logits.to(.f32)
        guard s.doSample else { return try scores.argmax(-1, keepDim: true) }
        if s.temperature != 1 { scores = try scores / s.temperature }
        if s.topK > 0 {
            let k = min(s.topK, scores.size(-1))
            let kth = try scores.topk(k).values.narrow(-1, k - 1, 1)
            scores = try scores.maskedFill(scores.lt(kth), -.infinity)
        }
        return try draw(scores.softmax(-1), u: rng.unit())
    }

    /// logits (rows, vocab) → codes (rows,) int64 on their device: row r's picked by `sample` with `settings[r]` and
    /// `rngs[r]`, exactly as alone, so a row's codes never depend on the rows beside it. All greedy: one argmax.
    static func sample(rows logits: Tensor, _ settings: [Sampling], rngs: inout [SeededRandom]) throws -> Tensor {
        guard settings.count == logits.size(0), rngs.count == settings.count else {
            throw TorchError("TokenSampler: \(logits.size(0)) rows of logits, \(settings.count) settings, \(rngs.count) streams")
        }
        if settings.allSatisfy({ !$0.doSample }) { return try logits.to(.f32).argmax(-1) }
        let codes = try settings.indices.map { try sample(logits.select(0, $0), settings[$0], rng: &rngs[$0]) }
        return codes.count == 1 ? codes[0] : try Tensor.cat(codes, dim: 0)
    }

    /// `hostDraw` on the device: probs (vocab,) float32 → (1,) int64. The running sum is float64 and sequential on
    /// the CPU (ATen's CPU cumsum), so there it equals the host loop's bit for bit; the first index whose running
    /// sum exceeds u · total is the count of running sums ≤ u · total (they never decrease), and when rounding
    /// leaves none above it, the last index with probability > 0 (as `hostDraw`). MPS has no float64: float32 there.
    static func draw(_ probs: Tensor, u: Double) throws -> Tensor {
        let n = probs.size(-1)
        let cumulative = try probs.to(probs.device == .mps ? .f32 : .f64).cumsum(-1)
        let target = try cumulative.narrow(-1, n - 1, 1) * u
        let first = try cumulative.le(target).sum([-1], keepDim: true)
        let positions = try Tensor.arange(n, device: probs.device)
        let lastPositive = try (probs.gt(0) * positions).max([-1], keepDim: true)
        return try first.minimum(lastPositive)
    }

    /// The reference draw on the host (what generation did before it sampled on the device; tests hold `draw` to it):
    /// the index whose cumulative probability first exceeds u · total (zero-probability entries never win).
    static func hostDraw(_ probs: [Float], u: Double) -> Int {
        let total = probs.reduce(0.0) { $0 + Double($1) }
        let target = u * total
        var cumulative = 0.0
        var last = 0
        for (i, p) in probs.enumerated() where p > 0 {
            cumulative += Double(p)
            last = i
            if cumulative > target { return i }
        }
        return last
    }
}
