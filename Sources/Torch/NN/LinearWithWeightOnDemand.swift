import CTorch

/// `x Wᵀ` for a frozen W that `makeWeight` rebuilds in forward and again in backward, so the autograd
/// graph keeps nothing of it in between (bitsandbytes' `MatMul4Bit` does the same for NF4). x and W are
/// cast to `compute` for the product, the result back to x's dtype. The rebuilt W of a 4-bit weight is
/// 8× its bytes in f32, of a bf16 one 2×: keeping it from forward to backward would undo the saving.
/// Gradient for x only (and through it to a LoRA pair on top); W never gets one.
///
/// The autograd Function itself is C++ (`ct_linear_weight_on_demand`): a C API cannot define one.
func linearWithWeightOnDemand(_ x: Tensor, compute: DType, _ makeWeight: @escaping () throws -> Tensor) throws -> Tensor {
    let context = Unmanaged.passRetained(WeightSource(makeWeight)).toOpaque()
    return try wrap(ct_linear_weight_on_demand(x.handle, { context in
        let source = Unmanaged<WeightSource>.fromOpaque(context!).takeUnretainedValue()
        do {
            // A new handle for the shim; the Swift tensor must outlive the clone, not just the `.handle` read.
            let weight = try source.make()
            return withExtendedLifetime(weight) { ct_shallow_clone(weight.handle) }
        } catch {
            ct_fail("\(error)")
            return nil
        }
    }, context, { Unmanaged<WeightSource>.fromOpaque($0!).release() }, compute.rawValue))
}

private final class WeightSource {
    let make: () throws -> Tensor
    init(_ make: @escaping () throws -> Tensor) { self.make = make }
}
