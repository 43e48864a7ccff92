import Torch

/// What `csm eval` reports: the mean over samples of each sample's loss as `CsmForConditionalGeneration`
/// computes it at batch size 1 with every frame labelled (decoder fraction 1).
public struct EvalResult: Codable, Equatable, Sendable {
    public var loss: Double
    public var backboneLoss: Double
    public var depthLoss: Double
    /// Samples evaluated.
    public var samples: Int
    /// Mimi frames (`<|AUDIO|>` positions) over all samples.
    public var frames: Int

    /// The means of per-sample losses summed over `samples` samples.
    public init(lossSum: Double, backboneLossSum: Double, depthLossSum: Double, samples: Int, frames: Int) {
        let n = Double(samples)
        (loss, backboneLoss, depthLoss) = (lossSum / n, backboneLossSum / n, depthLossSum / n)
        (self.samples, self.frames) = (samples, frames)
    }

    /// What the means are made of, in the order `init(sums:)` reads: the loss sums, samples and frames. Unlike
    /// means these add up across processes, so data-parallel validation sums each rank's and divides once.
    public var sums: [Double] {
        let n = Double(samples)
        return [loss * n, backboneLoss * n, depthLoss * n, n, Double(frames)]
    }

    public init(sums s: [Double]) {
        self.init(lossSum: s[0], backboneLossSum: s[1], depthLossSum: s[2], samples: Int(s[3]), frames: Int(s[4]))
    }

    enum CodingKeys: String, CodingKey {
        case loss, backboneLoss = "backbone_loss", depthLoss = "depth_loss", samples, frames
    }
}

extension CSMForConditionalGeneration {
    public func evaluate(_ samples: [Sample]) throws -> EvalResult {
        try evaluate(count: samples.count, sample: { samples[$0] })
    }

    /// Evaluates `count` samples, fetched one at a time by `sample(i)` (so a large set is never all in
    /// memory), without gradients. `progress` is called after each sample with the number done.
    public func evaluate(count total: Int, sample fetch: (Int) throws -> Sample,
                         progress: ((Int) -> Void)? = nil) throws -> EvalResult {
        var sum = 0.0, backbone = 0.0, depth = 0.0, count = 0, frames = 0
        try withNoGrad {
            for i in 0..<total {
                let sample = try fetch(i)
                let batch = try CSMBatch([sample.layout(config.specialIds)], numCodebooks: config.numCodebooks,
                                         device: device)
                let l = try loss(batch).loss
                let (b, d) = (try l.backboneLoss().item(), try l.depthLoss().item())
                backbone += b
                depth += d
                sum += b + d
                count += 1
                frames += sample.frameCount
                progress?(count)
            }
        }
        guard count > 0 else { throw CSMError.invalidSample("nothing to evaluate: the set holds no samples") }
        return EvalResult(lossSum: sum, backboneLossSum: backbone, depthLossSum: depth, samples: count, frames: frames)
    }
}
