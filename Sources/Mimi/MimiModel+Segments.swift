import Torch

extension MimiModel {
    /// Codes of many mono clips at `config.samplingRate`, each `frames × numCodebooks`, identical to encoding
    /// every clip on its own (the layers see exactly the padding HF gives a lone clip, see `ValidLengths`).
    ///
    /// Clips are sorted by length and packed into right-padded batches of at most `maxBatchSamples` samples
    /// (padding included) whose clips are at least `minFill` of the batch's longest, so similar lengths share
    /// a batch and little work is spent on padding.
    public func encode(segments: [[Float]], maxBatchSamples: Int = 24_000 * 90, minFill: Double = 0.8) throws -> [[[Int]]] {
        guard config.audioChannels == 1 else {
            throw MimiError.badInput("encode(segments:) takes mono clips; this Mimi expects \(config.audioChannels) channels")
        }
        for (i, segment) in segments.enumerated() {
            guard !segment.isEmpty else { throw MimiError.badInput("segment \(i) is empty (no samples)") }
            guard segment.allSatisfy({ $0.isFinite }) else {
                throw MimiError.badInput("segment \(i) contains NaN or infinite samples")
            }
        }
        var results = [[[Int]]](repeating: [], count: segments.count)
        for batch in Self.batches(lengths: segments.map(\.count), maxBatchSamples: maxBatchSamples, minFill: minFill) {
            let time = segments[batch[0]].count
            var flat = [Float](repeating: 0, count: batch.count * time)
            for (row, index) in batch.enumerated() {
                flat.replaceSubrange(row * time..<(row * time + segments[index].count), with: segments[index])
            }
            let audio = try Tensor(flat, shape: [batch.count, 1, time])
            let lengths = batch.map { segments[$0].count }
            let codes = try encode(audio, lengths: lengths)  // (batch, k, frames)
            let (k, frames) = (codes.size(1), codes.size(2))
            let values = try codes.toArray(Int.self)  // one copy back to the CPU per batch
            for (row, index) in batch.enumerated() {
                let valid = encodedLength(lengths[row])
                results[index] = (0..<valid).map { f in (0..<k).map { values[(row * k + $0) * frames + f] } }
            }
        }
        return results
    }

    /// Groups clip indices, longest first, so each group's `count × longest ≤ maxBatchSamples` and every clip
    /// has at least `minFill × longest` samples (a longer clip gets a group of its own).
    static func batches(lengths: [Int], maxBatchSamples: Int, minFill: Double = 0) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] || (lengths[$0] == lengths[$1] && $0 < $1) }
        var groups: [[Int]] = []
        for index in order {
            if let longest = groups.last?.first, (groups[groups.count - 1].count + 1) * lengths[longest] <= maxBatchSamples,
               Double(lengths[index]) >= minFill * Double(lengths[longest]) {
                groups[groups.count - 1].append(index)
            } else {
                groups.append([index])
            }
        }
        return groups
    }
}
