import CTorch

/// In-place updates (trailing underscore, as in torch). They mutate the shared storage.
extension Tensor {
    public func copy_(_ source: Tensor) throws { try check(ct_copy_(handle, source.handle)) }
    public func zero_() throws { try check(ct_zero_(handle)) }
    public func fill_(_ value: Double) throws { try check(ct_fill_(handle, value)) }
    /// self += alpha * other
    public func add_(_ other: Tensor, alpha: Double = 1) throws { try check(ct_add_(handle, other.handle, alpha)) }
    public func add_(_ value: Double) throws { try check(ct_add_scalar_(handle, value)) }
    public func mul_(_ other: Tensor) throws { try check(ct_mul_(handle, other.handle)) }
    public func mul_(_ value: Double) throws { try check(ct_mul_scalar_(handle, value)) }
    public func div_(_ value: Double) throws { try check(ct_div_scalar_(handle, value)) }
    public func lerp_(_ end: Tensor, _ weight: Double) throws { try check(ct_lerp_(handle, end.handle, weight)) }
    /// self += value * a * b
    public func addcmul_(_ a: Tensor, _ b: Tensor, value: Double = 1) throws {
        try check(ct_addcmul_(handle, a.handle, b.handle, value))
    }
    /// self += value * a / b
    public func addcdiv_(_ a: Tensor, _ b: Tensor, value: Double = 1) throws {
        try check(ct_addcdiv_(handle, a.handle, b.handle, value))
    }
    public func uniform_(_ from: Double, _ to: Double) throws { try check(ct_uniform_(handle, from, to)) }
    public func normal_(mean: Double = 0, std: Double = 1) throws { try check(ct_normal_(handle, mean, std)) }
    public func clamp_(min: Double, max: Double) throws { try check(ct_clamp_(handle, min, max)) }
}
