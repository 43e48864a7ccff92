import Torch

/// Splits an epoch's samples into batches, in a seeded order that `--resume` can replay exactly.
///
/// - Fixed size (`tokenBudget == 0`): a seeded permutation cut into `batchSize` chunks, as a
///   shuffling DataLoader (the last batch may be smaller).
/// - Token budget: samples of similar length share a batch, so little is padded. The shuffled
///   order is cut into windows of 50 batches' worth of samples, each window sorted by length and
///   packed greedily while `longest × count ≤ tokenBudget` (and `count ≤ batchSize` when set),
///   and the batches are shuffled again so lengths do not come in order.
public struct Batcher: Sendable {
    public let lengths: [Int]
    public let batchSize: Int
    public let tokenBudget: Int
    public let seed: UInt64

    public init(lengths: [Int], batchSize: Int, tokenBudget: Int = 0, seed: Int) {
        self.lengths = lengths
        self.batchSize = batchSize
        self.tokenBudget = tokenBudget
        self.seed = UInt64(bitPattern: Int64(seed))
    }

    /// The batches (sample indices) of `epoch`; the same for the same seed and epoch.
    public func batches(epoch: Int) -> [[Int]] {
        var rng = SeededRandom(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        let order = Array(lengths.indices).shuffled(using: &rng)
        guard tokenBudget > 0 else {
            return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0 ..< min($0 + batchSize, order.count)]) }
        }
        var batches: [[Int]] = []
        let window = max(batchSize, 1) * 50
        for start in stride(from: 0, to: order.count, by: window) {
            let chunk = order[start ..< min(start + window, order.count)].sorted { lengths[$0] < lengths[$1] }
            var current: [Int] = []
            var longest = 0
            for i in chunk {
                let newLongest = max(longest, lengths[i])
                let fits = newLongest * (current.count + 1) <= tokenBudget && current.count < batchSize
                if !current.isEmpty && !fits {
                    batches.append(current)
                    current = []
                    longest = 0
                }
                current.append(i)
                longest = max(longest, lengths[i])
            }
            if !current.isEmpty { batches.append(current) }
        }
        return batches.shuffled(using: &rng)
    }
}
