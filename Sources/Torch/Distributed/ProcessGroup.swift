import CTorch

/// A c10d ProcessGroup: `size` processes that run collectives together, each knowing its `rank`.
/// CPU tensors go through Gloo (as `torch.distributed.init_process_group("gloo")`).
public final class ProcessGroup: @unchecked Sendable {
    let handle: OpaquePointer
    public let rank: Int
    public let size: Int
    /// Kept alive for as long as the group uses it.
    public let store: TCPStore

    /// Joins the group; every rank must call this. A collective that waits longer than `timeout`
    /// seconds for a peer throws instead of hanging.
    public static func gloo(store: TCPStore, rank: Int, size: Int, timeout: Double) throws -> ProcessGroup {
        Runtime.prepareBackends()  // c10d may ask ATen about CUDA (Gloo's CUDA collectives, DDP's streams)
        guard let handle = ct_group_gloo(store.handle, Int32(rank), Int32(size), Int64(timeout * 1000))
        else { throw TorchError.last }
        return ProcessGroup(handle: handle, rank: rank, size: size, store: store)
    }

    init(handle: OpaquePointer, rank: Int, size: Int, store: TCPStore) {
        self.handle = handle
        self.rank = rank
        self.size = size
        self.store = store
    }

    deinit { ct_group_free(handle) }

    /// Replaces the tensor, on every rank, by its sum over all ranks.
    public func allReduceSum(_ tensor: Tensor) throws {
        try check(ct_group_allreduce_sum(handle, tensor.handle))
    }

    /// Overwrites the tensor, on every rank, with rank `root`'s.
    public func broadcast(_ tensor: Tensor, from root: Int) throws {
        try check(ct_group_broadcast(handle, tensor.handle, Int32(root)))
    }
}
