import CTorch

extension Tensor {
    /// torch.bucketize: for each element, the number of `boundaries` (sorted, 1-D) strictly below it,
    /// or at or below it with `right`. Int32.
    public func bucketize(_ boundaries: Tensor, right: Bool = false) throws -> Tensor {
        try wrap(ct_bucketize(handle, boundaries.handle, right ? 1 : 0))
    }
}
