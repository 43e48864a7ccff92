import CTorch

/// A random generator of libtorch's own (a CPU `at::Generator`), for draws that must leave the default
/// generator alone, e.g. `Tensor.dropout(_:training:generator:)`. `checkpoint(_:preserving:_:)` restores
/// the ones it is given along with the default generators.
public final class TorchGenerator {
    let handle: OpaquePointer

    public init(seed: UInt64) throws {
        guard let handle = ct_generator_new(seed) else { throw TorchError.last }
        self.handle = handle
    }

    deinit { ct_generator_free(handle) }
}
