import CTorch

/// Activation checkpointing (`torch.utils.checkpoint`, reentrant form): `body(x)` without keeping its
/// intermediate tensors for backward; backward runs `body` once more with gradients on and
/// back-propagates through that. Memory for time: a SwiGLU MLP keeps four intermediate-sized tensors per position
/// (gate, silu(gate), up, their product) that this replaces with its input.
///
/// Parameters `body` uses get their gradients accumulated during that inner backward. As
/// torch.utils.checkpoint's `preserve_rng_state`, the second run starts from the generator states the
/// first one had, so dropout draws the same masks: the default CPU generator, the default generator of
/// `x`'s device (CUDA, MPS), and the generators named in `preserving` (a body that draws from its own).
/// A generator left out would give the recomputation other masks, and wrong gradients. When `x` needs no
/// gradient, `body` runs plainly, since autograd would not call the recomputation back otherwise.
public func checkpoint(_ x: Tensor, preserving generators: [TorchGenerator] = [],
                       _ body: @escaping (Tensor) throws -> Tensor) throws -> Tensor {
    guard x.requiresGrad, ct_is_grad_enabled() != 0 else { return try body(x) }
    // The generators' handles are held by the autograd node from here on (ct_checkpoint copies them).
    let handles: [OpaquePointer?] = generators.map { $0.handle }
    let context = Unmanaged.passRetained(CheckpointBody(body)).toOpaque()
    return try withExtendedLifetime(generators) {
        try wrap(ct_checkpoint(x.handle, { context, input in
            let body = Unmanaged<CheckpointBody>.fromOpaque(context!).takeUnretainedValue()
            do {
                let y = try body.run(Tensor(handle: input!))
                return withExtendedLifetime(y) { ct_shallow_clone(y.handle) }
            } catch {
                ct_fail("\(error)")
                return nil
            }
        }, context, { Unmanaged<CheckpointBody>.fromOpaque($0!).release() }, handles, Int64(handles.count)))
    }
}

private final class CheckpointBody {
    let run: (Tensor) throws -> Tensor
    init(_ run: @escaping (Tensor) throws -> Tensor) { self.run = run }
}
