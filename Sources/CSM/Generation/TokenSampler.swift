import Torch

/// Picks a code from one row of logits exactly as transformers' sampling step: the logits in float32,
/// `TemperatureLogitsWarper` (divide), `TopKLogitsWarper` (every score below the k-th largest becomes -inf,
/// so ties with the k-th stay), softmax, one multinomial draw. The draw itself uses `SeededRandom` on the
/// host (inverse CDF), not torch's generator.
enum TokenSampler {
    /// logits: (vocab,) in any float dtype, on any device.
    static func sample(_ logits: Tensor, _ s: Sampling, rng: inout SeededRandom) throws -> Int {
        var scores = try logits.to(.f32)
        guard s.doSample else { return try scores.argmax(-1).itemInt() }
        if s.temperature != 1 { scores = try scores / s.temperature }
        if s.topK > 0 {
            let k = min(s.topK, scores.size(-1))
            let kth = try scores.topk(k).values.narrow(-1, k - 1, 1)
            scores = try scores.maskedFill(scores.lt(kth), -.infinity)
        }
        let probs = try scores.softmax(-1).toArray(Float.self)
        return draw(probs, u: rng.unit())
    }

    /// The index whose cumulative probability first exceeds u · total (zero-probability entries never win).
    static func draw(_ probs: [Float], u: Double) -> Int {
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
