import Torch

/// Samples laid out side by side, right-padded to the longest. Right padding keeps every real position's
/// result equal to its unpadded one (positions start at 0 for every row); padded keys are masked out and
/// padded positions carry no labels, so padding never contributes.
public struct CSMBatch {
    public let layouts: [SampleLayout]
    /// (batch, seq) text ids, 0 at padding.
    public let inputIds: Tensor
    /// (batch, seq, K) codes to embed at audio positions (0 elsewhere).
    public let codes: Tensor
    /// (batch, seq) true at audio frames and audio-end positions.
    public let isAudio: Tensor
    /// (batch, seq) codebook-0 labels: the backbone's targets, -100 where none.
    public let backboneLabels: Tensor
    /// Per row, which positions are real (false = padding).
    public let valid: [[Bool]]
    /// Frames the depth decoder trains on, as (row, position), in row-major order as transformers' nonzero().
    public let depthFrames: [(row: Int, position: Int)]
    /// (N, K-1) codes 0..<K-1 of those frames (the depth decoder's inputs) and (N, K-1) codes 1..<K (its labels).
    public let depthInputs: Tensor
    public let depthLabels: Tensor
    /// Targets of each loss term (known on the host, so normalising needs no device sync): codebook-0
    /// labels after the first position, and depth-decoder labels that are not -100.
    public let backboneTargets: Int
    public let depthTargets: Int

    public var length: Int { valid.first?.count ?? 0 }
    public var count: Int { layouts.count }
    public var isPadded: Bool { valid.contains { $0.contains(false) } }

    public init(_ layouts: [SampleLayout], numCodebooks k: Int, device: Device = .cpu) throws {
        guard !layouts.isEmpty else { throw CSMError.invalidSample("empty batch") }
        self.layouts = layouts
        let t = layouts.map(\.count).max()!
        var ids = [Int64](), codes = [Int64](), audio = [Bool](), labels = [Int64](), valid = [[Bool]]()
        var frames = [(row: Int, position: Int)](), dIn = [Int64](), dOut = [Int64]()
        var backboneTargets = 0
        for (r, l) in layouts.enumerated() {
            for p in 0..<t {
                let real = p < l.count
                ids.append(real ? Int64(l.inputIds[p]) : 0)
                let c = real ? l.codes[p] : nil
                if let c, c.count != k {
                    throw CSMError.invalidSample("position \(p) has \(c.count) codes, the model has \(k) codebooks")
                }
                codes += (c ?? [Int](repeating: 0, count: k)).map(Int64.init)
                audio.append(c != nil)
                let row = real ? l.codeLabels[p] : [Int](repeating: CSMLabel.ignore, count: k)
                labels.append(Int64(row[0]))
                if p > 0 && row[0] != CSMLabel.ignore { backboneTargets += 1 }
                // transformers: train_mask = ~(labels[..., 1:] == -100).all(-1)
                if row.dropFirst().contains(where: { $0 != CSMLabel.ignore }) {
                    guard p > 0 else { throw CSMError.invalidSample("a labelled frame at position 0 has no context") }
                    frames.append((r, p))
                    dIn += row.prefix(k - 1).map(Int64.init)
                    dOut += row.dropFirst().map(Int64.init)
                }
            }
            valid.append((0..<t).map { $0 < l.count })
        }
        let b = layouts.count
        inputIds = try Tensor(ids, shape: [b, t]).to(device)
        self.codes = try Tensor(codes, shape: [b, t, k]).to(device)
        isAudio = try Tensor(audio, shape: [b, t]).to(device)
        backboneLabels = try Tensor(labels, shape: [b, t]).to(device)
        self.valid = valid
        depthFrames = frames
        depthInputs = try Tensor(dIn, shape: [frames.count, k - 1]).to(device)
        depthLabels = try Tensor(dOut, shape: [frames.count, k - 1]).to(device)
        self.backboneTargets = backboneTargets
        depthTargets = dOut.filter { $0 != Int64(CSMLabel.ignore) }.count
    }

    /// Convenience: lays samples out (all turns labelled, decoder fraction 1) and batches them.
    public init(samples: [Sample], config: CSMConfig, device: Device = .cpu) throws {
        try self.init(samples.map { try $0.layout(config.specialIds) }, numCodebooks: config.numCodebooks, device: device)
    }
}
