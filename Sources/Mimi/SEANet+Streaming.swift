import Torch

// The SEANet decoder's layers run one chunk at a time. Every decoder conv is causal, so output step t depends on
// input steps ≤ t only; what a layer needs from earlier chunks is a short window of its own past input (a
// conv's tail) or of its past output (a transposed conv's overlap). Carrying those makes a chunk's output
// equal the same steps of the whole-clip decode (kyutai's `StreamingConv1d` / `StreamingConvTranspose1d`,
// transformers' `MimiConv1dPaddingCache`).

extension MimiConv1d {
    /// Whether `step` can run this conv: causal (no look-ahead) and stride 1 (every decoder conv; strided convs
    /// would need the right padding of a clip's end, which a stream does not know yet).
    var streams: Bool { causal && stride == 1 && padMode != .reflect }

    /// The next chunk `x` (batch, channels, time) of a stream → `time` output steps.
    ///
    /// `tail` holds the last `paddingTotal` (kernel − 1, dilated) input steps of the earlier chunks: the left
    /// context the first steps of this chunk read. At the start it is the causal left padding of the whole-clip
    /// call (zeros, or copies of the first step for `replicate`). Stride 1 needs no right padding.
    func step(_ x: Tensor, tail: inout Tensor?) throws -> Tensor {
        guard streams else { throw MimiError.invalidConfig("a \(padMode.rawValue)-padded conv with stride \(stride) cannot stream") }
        guard paddingTotal > 0 else { return try conv(x) }
        let past = try tail ?? startPadding(x)
        let input = try Tensor.cat([past, x], dim: 2)
        tail = try input.slice(2, input.size(2) - paddingTotal)
        return try conv(input)
    }

    private func startPadding(_ x: Tensor) throws -> Tensor {
        let shape = [x.size(0), x.size(1), paddingTotal]
        switch padMode {
        case .constant: return try Tensor.zeros(shape, dtype: x.dtype, device: x.device)
        case .replicate: return try x.slice(2, 0, 1).expand(shape)
        case .reflect: throw MimiError.invalidConfig("reflect padding cannot stream")
        }
    }
}

extension MimiConvTranspose1d {
    /// Whether `step` can run this transposed conv: all `kernel − stride` surplus outputs trimmed on the right
    /// (causal with trim_right_ratio 1, as Mimi), so nothing is dropped at the start of a clip.
    var streams: Bool { paddingLeft == 0 }

    /// The next chunk `x` (batch, channels, time) of a stream → `time · stride` output steps.
    ///
    /// Each input step adds a `kernel`-long window to the output, `stride` apart, so the last `kernel − stride`
    /// output steps of a chunk still get contributions from the next chunk. `overlap` carries those partial sums
    /// (without bias) and the next chunk adds them to its first steps; the whole-clip call trims exactly these
    /// steps at the clip's end. The bias is added once, to the steps that are complete.
    func step(_ x: Tensor, overlap: inout Tensor?) throws -> Tensor {
        guard streams else { throw MimiError.invalidConfig("a transposed conv trimmed on the left cannot stream") }
        var y = try conv.groups == 1 ? overlapAdd(x)  // (time − 1)·stride + kernel steps, no bias
            : x.convTranspose1d(conv.weight, stride: conv.stride, groups: conv.groups)
        let pending = paddingRight
        if let overlap {
            y = try Tensor.cat([y.slice(2, 0, pending) + overlap, y.slice(2, pending)], dim: 2)
        }
        let complete = try y.slice(2, 0, y.size(2) - pending)
        overlap = pending > 0 ? try y.slice(2, y.size(2) - pending) : nil
        return try conv.bias.map { try complete + $0.view([1, -1, 1]) } ?? complete
    }

    /// conv_transpose1d without bias for groups = 1, as one matmul and an overlap-add. libtorch's CPU
    /// conv_transpose1d re-lays the weight out for oneDNN on every call: for the first decoder layer (1024 → 512,
    /// kernel 16, 33 MB) that is ~65 ms, paid once by a whole clip but per chunk by a stream (it made one-frame
    /// chunks 6× the offline cost). The matmul reads the weight as stored (~3.5 ms there).
    ///
    /// Input step t adds weightᵀ·x[t], a (out, kernel) window, at output steps t·stride …; with the kernel padded
    /// to n·stride, window part i lands in output block t + i (blocks of `stride` steps).
    func overlapAdd(_ x: Tensor) throws -> Tensor {
        let (batch, inChannels, time) = (x.size(0), x.size(1), x.size(2))
        let (outChannels, kernel, stride) = (conv.weight.size(1), conv.weight.size(2), conv.stride)
        let parts = ceilDiv(kernel, stride)
        var windows = try x.transpose(1, 2).matmul(conv.weight.view([inChannels, outChannels * kernel]))  // (b, t, out·k)
            .view([batch, time, outChannels, kernel])
        if parts * stride > kernel { windows = try windows.pad([0, parts * stride - kernel]) }
        windows = try windows.view([batch, time, outChannels, parts, stride])
        var blocks: Tensor?  // (batch, out, time + parts − 1, stride)
        for i in 0..<parts {
            let part = try windows.select(3, i).permute([0, 2, 1, 3])  // (batch, out, time, stride)
            let zeros = { (n: Int) throws -> [Tensor] in
                n == 0 ? [] : [try Tensor.zeros([batch, outChannels, n, stride], dtype: x.dtype, device: x.device)]
            }
            let placed = try Tensor.cat(zeros(i) + [part] + zeros(parts - 1 - i), dim: 2)
            blocks = try blocks.map { try $0 + placed } ?? placed
        }
        return try blocks!.reshape([batch, outChannels, (time + parts - 1) * stride]).slice(2, 0, (time - 1) * stride + kernel)
    }
}

extension MimiResnetBlock {
    var streams: Bool { block.allSatisfy(\.streams) && (shortcut?.streams ?? true) }

    /// The next chunk of a stream; `tails` holds one tail per conv of `block`, then the shortcut's.
    func step(_ x: Tensor, tails: inout [Tensor?]) throws -> Tensor {
        var h = x
        for (i, conv) in block.enumerated() { h = try conv.step(h.elu(), tail: &tails[i]) }
        let residual = try shortcut.map { try $0.step(x, tail: &tails[block.count]) } ?? x
        return try residual + h
    }
}

extension MimiDecoder {
    /// What one decoder layer carries from chunk to chunk (nil: nothing yet, the stream's start).
    enum LayerState {
        /// An ELU: nothing.
        case stateless
        /// A causal conv: its last kernel − 1 input steps.
        case convTail(Tensor?)
        /// A transposed conv: the partial sums of its last kernel − stride output steps.
        case overlap(Tensor?)
        /// A residual block: its convs' tails.
        case resnetTails([Tensor?])
    }

    var streams: Bool {
        layers.allSatisfy { layer in
            switch layer {
            case .conv(let conv): return conv.streams
            case .transposedConv(let conv): return conv.streams
            case .resnet(let block): return block.streams
            case .elu: return true
            }
        }
    }

    /// The state of a stream that has not started: one entry per layer.
    func startState() -> [LayerState] {
        layers.map { layer in
            switch layer {
            case .conv: return .convTail(nil)
            case .transposedConv: return .overlap(nil)
            case .resnet(let block): return .resnetTails(Array(repeating: nil, count: block.block.count + 1))
            case .elu: return .stateless
            }
        }
    }

    /// The next chunk (batch, hidden, steps) of a stream → (batch, channels, steps · hop), updating `state`.
    func step(_ x: Tensor, state: inout [LayerState]) throws -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            switch (layer, state[i]) {
            case (.conv(let conv), .convTail(var tail)):
                h = try conv.step(h, tail: &tail)
                state[i] = .convTail(tail)
            case (.transposedConv(let conv), .overlap(var overlap)):
                h = try conv.step(h, overlap: &overlap)
                state[i] = .overlap(overlap)
            case (.resnet(let block), .resnetTails(var tails)):
                h = try block.step(h, tails: &tails)
                state[i] = .resnetTails(tails)
            case (.elu, .stateless):
                h = try h.elu()
            default:
                throw MimiError.invalidConfig("decoder stream state does not match layer \(i)")
            }
        }
        return h
    }
}
