import Torch

/// Running the SEANet encoder over a long clip a couple of seconds at a time: the same outputs with activations
/// bounded by the chunk (a 10 s clip at 64 channels is 60 MB per activation, a 2 s chunk 12 MB, closer to the
/// CPU cache; see BENCHMARKS.md for what it did and did not gain).
///
/// Exact because every conv is causal: output step t depends on input samples up to (t + 1)·hop − 1 and back
/// `receptiveContext` samples. A chunk of steps [a, b) is computed from samples [(a − c)·hop, b·hop), c steps of
/// recomputed left context covering the receptive field; the context's outputs (wrong near the chunk's zero-padded
/// left edge) are dropped. Chunk edges are multiples of `hop`, so no strided conv needs right padding inside the
/// clip, and only the clip's real end gets HF's extra padding.
extension MimiEncoder {
    /// Every conv in execution order (residual blocks' convs included).
    var convs: [MimiConv1d] {
        layers.flatMap { layer -> [MimiConv1d] in
            switch layer {
            case .conv(let conv): return [conv]
            case .resnet(let block): return block.block + (block.shortcut.map { [$0] } ?? [])
            case .elu, .transposedConv: return []
            }
        }
    }

    /// Input samples per output step (the product of the strides).
    var hop: Int { convs.reduce(1) { $0 * $1.stride } }

    /// How many input samples before an output step's own window can still change it.
    var receptiveContext: Int { convs.reversed().reduce(0) { $0 * $1.stride + $1.paddingTotal } }

    /// `callAsFunction(x, lengths:)` computed `chunkSteps` output steps at a time.
    func chunked(_ x: Tensor, lengths: inout ValidLengths?, chunkSteps: Int) throws -> Tensor {
        let (hop, time) = (self.hop, x.size(2))
        let totalSteps = outputLength(time)
        guard convs.allSatisfy(\.causal), totalSteps > chunkSteps else { return try self(x, lengths: &lengths) }
        let contextSteps = ceilDiv(receptiveContext, hop)
        var pieces: [Tensor] = []
        var start = 0
        while start < totalSteps {
            let end = min(start + chunkSteps, totalSteps)
            let from = max(0, start - contextSteps)
            let (sampleStart, sampleEnd) = (from * hop, end == totalSteps ? time : end * hop)
            // Lengths relative to the slice; a clip that ended earlier has no kept output here (clamped to 1).
            var local = lengths.map { $0.map { min(max($0 - sampleStart, 1), sampleEnd - sampleStart) } }
            let out = try self(x.slice(2, sampleStart, sampleEnd), lengths: &local)
            pieces.append(try out.slice(2, start - from, end - from))
            start = end
        }
        lengths = lengths?.map(outputLength)
        return try Tensor.cat(pieces, dim: 2)
    }
}
