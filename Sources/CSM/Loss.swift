import Torch

/// The two loss terms of `CsmForConditionalGeneration` as sums with their target counts, so a trainer can
/// normalise by the counts of a whole accumulated batch (exact gradient accumulation, SPEC §4), and the
/// per-batch means transformers reports.
public struct CSMLoss {
    /// Sum of codebook-0 cross-entropies over the backbone's targets, and their number (labelled frames,
    /// audio-end positions included).
    public var backboneSum: Tensor
    public var backboneCount: Int
    /// Sum over the depth decoder's targets (codebooks 1..<K of each depth-trained frame), their number,
    /// and the number of frames they come from.
    public var depthSum: Tensor
    public var depthCount: Int
    public var depthFrames: Int

    /// transformers' `backbone_loss`: mean over targets (NaN-free: 0 when there is none).
    public func backboneLoss() throws -> Tensor { try backboneSum / Double(max(backboneCount, 1)) }
    /// transformers' `depth_decoder_loss`.
    public func depthLoss() throws -> Tensor { try depthSum / Double(max(depthCount, 1)) }
    /// transformers' `loss` = backbone_loss + depth_decoder_loss.
    public func total() throws -> Tensor { try backboneLoss() + depthLoss() }

    /// The terms normalised by externally given counts (those of the whole accumulated batch).
    public func normalized(backboneCount b: Int, depthCount d: Int) throws -> Tensor {
        try backboneSum / Double(max(b, 1)) + depthSum / Double(max(d, 1))
    }
}

extension CSMForConditionalGeneration {
    /// Forward pass and loss exactly as `CsmForConditionalGeneration.forward(labels=…)`: the backbone's logits
    /// at position p predict codebook 0 at p+1; each depth-trained frame is decoded from the backbone hidden
    /// state at the previous position followed by its codebooks 0..<K-1, predicting codebooks 1..<K.
    public func loss(_ batch: CSMBatch) throws -> (loss: CSMLoss, logits: Tensor) {
        let (hidden, logits) = try forward(batch)
        let v = config.vocabSize, t = batch.length
        let shifted = try logits.narrow(1, 0, t - 1).to(.f32).reshape([-1, v])
        let targets = try batch.backboneLabels.narrow(1, 1, t - 1).reshape([-1])
        let backboneSum = try shifted.crossEntropy(targets, reduction: .sum)

        var depthSum = try Tensor.zeros([], device: device)
        let n = batch.depthFrames.count
        if n > 0 {
            let rows = try Tensor(batch.depthFrames.map { Int64($0.row * t + $0.position - 1) }).to(device)
            let previous = try hidden.reshape([-1, hidden.size(-1)]).indexSelect(0, rows)
            let depth = try depthLogits(backboneHidden: previous, codes: batch.depthInputs)
            let labels = try batch.depthLabels.reshape([-1])
            depthSum = try depth.to(.f32).reshape([-1, v]).crossEntropy(labels, reduction: .sum)
        }
        return (CSMLoss(backboneSum: backboneSum, backboneCount: batch.backboneTargets, depthSum: depthSum,
                        depthCount: batch.depthTargets, depthFrames: n), logits)
    }
}
