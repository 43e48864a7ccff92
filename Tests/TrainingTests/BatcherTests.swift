import Testing
import Torch
@testable import Training

@Suite struct BatcherTests {
    @Test func fixedSizeCoversEverySampleOncePerEpoch() {
        let b = Batcher(lengths: Array(repeating: 10, count: 23), batchSize: 4, seed: 3407)
        let batches = b.batches(epoch: 0)
        #expect(batches.count == 6)
        #expect(batches.dropLast().allSatisfy { $0.count == 4 } && batches.last!.count == 3)
        #expect(batches.flatMap { $0 }.sorted() == Array(0 ..< 23))
    }

    @Test func orderIsSeededPerEpoch() {
        let b = Batcher(lengths: Array(repeating: 1, count: 50), batchSize: 5, seed: 7)
        #expect(b.batches(epoch: 0) == b.batches(epoch: 0))
        #expect(b.batches(epoch: 0) != b.batches(epoch: 1))
        #expect(b.batches(epoch: 0) != Batcher(lengths: b.lengths, batchSize: 5, seed: 8).batches(epoch: 0))
    }

    @Test func tokenBudgetBoundsPaddedSize() {
        var rng = SeededRandom(seed: 1)
        let lengths = (0 ..< 300).map { _ in Int.random(in: 50 ... 900, using: &rng) }
        let b = Batcher(lengths: lengths, batchSize: 16, tokenBudget: 2048, seed: 3)
        let batches = b.batches(epoch: 0)
        #expect(batches.flatMap { $0 }.sorted() == Array(0 ..< 300))
        for batch in batches {
            let longest = batch.map { lengths[$0] }.max()!
            #expect(batch.count == 1 || longest * batch.count <= 2048)
            #expect(batch.count <= 16)
        }
        // Bucketing pads far less than random batches of the same count would.
        let padded = batches.reduce(0) { $0 + $1.map { lengths[$0] }.max()! * $1.count }
        #expect(Double(padded) < 1.25 * Double(lengths.reduce(0, +)))
    }
}
