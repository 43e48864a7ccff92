import CTorch

/// Shape and indexing operations. Dims may be negative (counted from the end), as in torch.
extension Tensor {
    /// Runs a shim op that takes this tensor and a list of sizes or dims (`const int64_t *`, count).
    @inline(__always)
    private func withDims(_ dims: [Int],
                          _ op: (OpaquePointer?, UnsafePointer<Int64>?, Int64) -> OpaquePointer?) throws -> Tensor {
        let d = dims.map(Int64.init)
        return try wrap(op(handle, d, Int64(d.count)))
    }

    public func reshape(_ shape: [Int]) throws -> Tensor { try withDims(shape, ct_reshape) }

    public func reshape(_ shape: Int...) throws -> Tensor { try reshape(shape) }

    /// Like reshape but never copies; fails when the strides do not allow it.
    public func view(_ shape: [Int]) throws -> Tensor { try withDims(shape, ct_view) }

    public func permute(_ dims: [Int]) throws -> Tensor { try withDims(dims, ct_permute) }

    public func permute(_ dims: Int...) throws -> Tensor { try permute(dims) }

    public func transpose(_ d0: Int, _ d1: Int) throws -> Tensor {
        try wrap(ct_transpose(handle, Int64(d0), Int64(d1)))
    }

    public func expand(_ shape: [Int]) throws -> Tensor { try withDims(shape, ct_expand) }

    public func repeated(_ repeats: [Int]) throws -> Tensor { try withDims(repeats, ct_repeat) }

    public func repeatInterleave(_ repeats: Int, dim: Int) throws -> Tensor {
        try wrap(ct_repeat_interleave(handle, Int64(repeats), Int64(dim)))
    }

    public func unsqueeze(_ dim: Int) throws -> Tensor { try wrap(ct_unsqueeze(handle, Int64(dim))) }
    public func squeeze(_ dim: Int) throws -> Tensor { try wrap(ct_squeeze(handle, Int64(dim))) }

    public func flatten(_ start: Int = 0, _ end: Int = -1) throws -> Tensor {
        try wrap(ct_flatten(handle, Int64(start), Int64(end)))
    }

    /// Elements `start..<end` (clamped, as Python slicing) of `dim`, every `step`-th.
    public func slice(_ dim: Int, _ start: Int, _ end: Int = Int(Int64.max), step: Int = 1) throws -> Tensor {
        try wrap(ct_slice(handle, Int64(dim), Int64(start), Int64(end), Int64(step)))
    }

    public func slice(_ dim: Int, _ range: Range<Int>) throws -> Tensor {
        try slice(dim, range.lowerBound, range.upperBound)
    }

    /// Length `length` starting at `start` along `dim` (torch.narrow).
    public func narrow(_ dim: Int, _ start: Int, _ length: Int) throws -> Tensor {
        try slice(dim, start, start + length)
    }

    /// Removes `dim` by picking one index of it.
    public func select(_ dim: Int, _ index: Int) throws -> Tensor {
        try wrap(ct_select(handle, Int64(dim), Int64(index)))
    }

    public subscript(_ index: Int) -> Tensor {
        get throws { try select(0, index) }
    }

    public func indexSelect(_ dim: Int, _ index: Tensor) throws -> Tensor {
        try wrap(ct_index_select(handle, Int64(dim), index.handle))
    }

    /// Advanced indexing along dim 0 with a bool mask or an integer tensor (`t[index]`).
    public func index(_ index: Tensor) throws -> Tensor { try wrap(ct_index(handle, index.handle)) }

    /// `t[index] = values` (or `+=` with `accumulate`), in place.
    public func indexPut_(_ index: Tensor, _ values: Tensor, accumulate: Bool = false) throws {
        try check(ct_index_put_(handle, index.handle, values.handle, accumulate ? 1 : 0))
    }

    public func maskedSelect(_ mask: Tensor) throws -> Tensor { try wrap(ct_masked_select(handle, mask.handle)) }

    public func gather(_ dim: Int, _ index: Tensor) throws -> Tensor {
        try wrap(ct_gather(handle, Int64(dim), index.handle))
    }

    public func scatter(_ dim: Int, _ index: Tensor, _ source: Tensor) throws -> Tensor {
        try wrap(ct_scatter(handle, Int64(dim), index.handle, source.handle))
    }

    public func scatterAdd(_ dim: Int, _ index: Tensor, _ source: Tensor) throws -> Tensor {
        try wrap(ct_scatter_add(handle, Int64(dim), index.handle, source.handle))
    }

    public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        let handles: [OpaquePointer?] = tensors.map { $0.handle }
        return try wrap(ct_cat(handles, Int64(handles.count), Int64(dim)))
    }

    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        let handles: [OpaquePointer?] = tensors.map { $0.handle }
        return try wrap(ct_stack(handles, Int64(handles.count), Int64(dim)))
    }

    /// Splits `dim` into pieces of `size` (the last may be shorter), as torch.split.
    public func split(_ size: Int, dim: Int) throws -> [Tensor] {
        let n = self.size(dim)
        return try stride(from: 0, to: n, by: size).map { try slice(dim, $0, Swift.min($0 + size, n)) }
    }

    /// Splits `dim` into the given sizes.
    public func split(sizes: [Int], dim: Int) throws -> [Tensor] {
        var start = 0
        return try sizes.map { size in
            defer { start += size }
            return try narrow(dim, start, size)
        }
    }

    public func chunk(_ chunks: Int, dim: Int) throws -> [Tensor] {
        let n = size(dim)
        return try split((n + chunks - 1) / chunks, dim: dim)
    }

    public enum PadMode: Int32 { case constant = 0, reflect, replicate, circular }

    /// Pads trailing dims as torch.nn.functional.pad: `[left, right]` for the last dim, then the one before…
    public func pad(_ pads: [Int], mode: PadMode = .constant, value: Double = 0) throws -> Tensor {
        let p = pads.map(Int64.init)
        return try wrap(ct_pad(handle, p, Int64(p.count), mode.rawValue, value))
    }

    public func flip(_ dims: [Int]) throws -> Tensor { try withDims(dims, ct_flip) }

    public func tril(_ diagonal: Int = 0) throws -> Tensor { try wrap(ct_tril(handle, Int64(diagonal))) }
    public func triu(_ diagonal: Int = 0) throws -> Tensor { try wrap(ct_triu(handle, Int64(diagonal))) }
}
