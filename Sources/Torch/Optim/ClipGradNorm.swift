/// torch.nn.utils.clip_grad_norm_ with the 2-norm: scales every gradient by
/// `min(1, maxNorm / (totalNorm + 1e-6))`, where totalNorm is the norm of the per-tensor norms,
/// and returns totalNorm (before clipping). Parameters without a gradient are ignored.
///
/// The operations are torch's own, in its order (norm per gradient, stack, norm; the coefficient
/// as `reciprocal(total + 1e-6) * maxNorm`, clamped, then multiplied in place as a tensor), so the
/// result is bit-identical — given the parameters in torch's order (the model's `parameters()`),
/// since the total sums squares in list order. Like torch, a non-finite norm is returned, not thrown.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Double) throws -> Double {
    try withNoGrad {
        let grads = try parameters.compactMap { try $0.grad }
        guard !grads.isEmpty else { return 0 }
        let device = grads[0].device
        let total = try Tensor.stack(grads.map { try $0.norm(2).to(device) }).norm(2)
        let coefficient = try (maxNorm / (total + 1e-6)).clamp(max: 1.0)
        for g in grads {
            try g.mul_(coefficient.to(g.device))
        }
        return try total.item()
    }
}
