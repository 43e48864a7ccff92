/// A tensor and its copies in other dtypes, each made on first use: libtorch's packed kernels want their scales
/// in the activations' dtype, and casting them on every call costs a kernel per projection per step.
struct DTypeCopies {
    let original: Tensor
    private var copies: [DType: Tensor] = [:]

    init(_ original: Tensor) { self.original = original }

    mutating func callAsFunction(_ dtype: DType) throws -> Tensor {
        if original.dtype == dtype { return original }
        if let copy = copies[dtype] { return copy }
        let copy = try original.to(dtype)
        copies[dtype] = copy
        return copy
    }
}
