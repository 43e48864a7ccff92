import CTorch

/// Reductions. An empty `dims` reduces over every dimension.
extension Tensor {
    func reduce(_ op: Int, _ dims: [Int], keepDim: Bool) throws -> Tensor {
        let d = dims.map(Int64.init)
        return try wrap(ct_reduce(Int32(op), handle, d, Int64(d.count), keepDim ? 1 : 0))
    }

    public func sum(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_SUM, dims, keepDim: keepDim) }
    public func sum(_ dim: Int, keepDim: Bool = false) throws -> Tensor { try sum([dim], keepDim: keepDim) }
    public func mean(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_MEAN, dims, keepDim: keepDim) }
    public func mean(_ dim: Int, keepDim: Bool = false) throws -> Tensor { try mean([dim], keepDim: keepDim) }
    public func max(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_AMAX, dims, keepDim: keepDim) }
    public func min(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_AMIN, dims, keepDim: keepDim) }
    public func prod(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_PROD, dims, keepDim: keepDim) }
    public func all(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_ALL, dims, keepDim: keepDim) }
    public func any(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_ANY, dims, keepDim: keepDim) }
    public func logsumexp(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
        try reduce(CT_LOGSUMEXP, dims, keepDim: keepDim)
    }
    /// Unbiased variance (correction 1), as torch.var.
    public func variance(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_VAR, dims, keepDim: keepDim) }
    public func std(_ dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_STD, dims, keepDim: keepDim) }

    public func argmax(_ dim: Int, keepDim: Bool = false) throws -> Tensor { try wrap(ct_argmax(handle, Int64(dim), keepDim ? 1 : 0)) }
    public func argmin(_ dim: Int, keepDim: Bool = false) throws -> Tensor { try wrap(ct_argmin(handle, Int64(dim), keepDim ? 1 : 0)) }
    public func cumsum(_ dim: Int) throws -> Tensor { try wrap(ct_cumsum(handle, Int64(dim))) }
    /// The p-norm of all elements.
    public func norm(_ p: Double = 2) throws -> Tensor { try wrap(ct_norm(handle, p)) }

    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        var v: OpaquePointer?, i: OpaquePointer?
        try check(ct_topk(handle, Int64(k), Int64(dim), largest ? 1 : 0, &v, &i))
        return (Tensor(handle: v!), Tensor(handle: i!))
    }

    /// Stable sort along `dim`.
    public func sort(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        var v: OpaquePointer?, i: OpaquePointer?
        try check(ct_sort(handle, Int64(dim), descending ? 1 : 0, &v, &i))
        return (Tensor(handle: v!), Tensor(handle: i!))
    }

    /// Draws `samples` indices per row from the (unnormalised) probabilities in the last dim.
    public func multinomial(_ samples: Int, replacement: Bool = false) throws -> Tensor {
        try wrap(ct_multinomial(handle, Int64(samples), replacement ? 1 : 0))
    }
}
