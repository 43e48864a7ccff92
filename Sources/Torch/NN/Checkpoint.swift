import CTorch

/// Activation checkpointing (`torch.utils.checkpoint`, reentrant form): `body(x)` without keeping its
/// intermediate tensors for backward; backward runs `body` once more with gradients on and
/// back-propagates through that. Memory for time: a SwiGLU MLP keeps four intermediate-sized tensors per position
/// (gate, silu(gate), up, their product) that this replaces with its input.
///
/// Parameters `body` uses get their gradients accumulated during that inner backward. libtorch's CPU
/// generator is restored for the second run, so dropout draws the same masks (other devices' generators
/// are not: use it with dropout there only if the masks need not match). When `x` needs no gradient,
/// `body` runs plainly, since autograd would not call the recomputation back otherwise.
public func checkpoint(_ x: Tensor, _ body: @escaping (Tensor) throws -> Tensor) throws -> Tensor {
    guard x.requiresGrad, ct_is_grad_enabled() != 0 else { return try body(x) }
    let context = Unmanaged.passRetained(CheckpointBody(body)).toOpaque()
    return try wrap(ct_checkpoint(x.handle, { context, input in
        let body = Unmanaged<CheckpointBody>.fromOpaque(context!).takeUnretainedValue()
        do {
            let y = try body.run(Tensor(handle: input!))
            return withExtendedLifetime(y) { ct_shallow_clone(y.handle) }
        } catch {
            ct_fail("\(error)")
            return nil
        }
    }, context, { Unmanaged<CheckpointBody>.fromOpaque($0!).release() }))
}

private final class CheckpointBody {
    let run: (Tensor) throws -> Tensor
    init(_ run: @escaping (Tensor) throws -> Tensor) { self.run = run }
}
