import CTorch

extension Tensor {
    /// `beta·self + alpha·(mat1 @ mat2)` for 2-D operands, as `torch.addmm`: one pass over the output
    /// instead of a product, a scaling and a sum.
    public func addmm(_ mat1: Tensor, _ mat2: Tensor, beta: Double = 1, alpha: Double = 1) throws -> Tensor {
        try wrap(ct_addmm(handle, mat1.handle, mat2.handle, beta, alpha))
    }
}
