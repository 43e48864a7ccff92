import CTorch

/// Autograd: gradient tracking, backward and no-grad scopes.
extension Tensor {
    public var requiresGrad: Bool { ct_requires_grad(handle) != 0 }

    /// Marks a leaf tensor as trainable (or not); returns self for chaining.
    @discardableResult
    public func requiresGrad(_ flag: Bool) throws -> Tensor {
        try check(ct_set_requires_grad(handle, flag ? 1 : 0))
        return self
    }

    /// Back-propagates from this (scalar) tensor, accumulating into the leaves' `.grad`.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        Runtime.prepareBackends()  // the autograd engine asks ATen's CUDA hooks at every backward
        try check(ct_backward(handle, gradient?.handle, retainGraph ? 1 : 0))
    }

    /// The accumulated gradient, or nil when none has been computed.
    public var grad: Tensor? {
        get throws {
            var out: OpaquePointer?
            try check(ct_grad(handle, &out))
            return out.map { Tensor(handle: $0) }
        }
    }

    /// Replaces (or with nil clears) the accumulated gradient.
    public func setGrad(_ gradient: Tensor?) throws { try check(ct_set_grad(handle, gradient?.handle)) }
}

/// Runs `body` with gradient recording off (torch.no_grad()), restoring the previous mode after.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ct_set_grad_enabled(0)
    defer { _ = ct_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` with gradient recording on (torch.enable_grad()).
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ct_set_grad_enabled(1)
    defer { _ = ct_set_grad_enabled(previous) }
    return try body()
}
