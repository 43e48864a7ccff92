import CTorch

/// A c10d ProcessGroup: `size` processes that run collectives together, each knowing its `rank`.
/// CPU tensors go through Gloo; CUDA tensors through NCCL when the group was made with it (as
/// `init_process_group("cpu:gloo,cuda:nccl")`), else through Gloo too (as `init_process_group("gloo")`).
public final class ProcessGroup: @unchecked Sendable {
    let handle: OpaquePointer
    public let rank: Int
    public let size: Int
    /// What carries collectives on CUDA tensors.
    public let cudaBackend: CollectiveBackend
    /// Kept alive for as long as the group uses it.
    public let store: TCPStore

    /// Joins the group; every rank must call this. A collective that waits longer than `timeout`
    /// seconds for a peer throws instead of hanging.
    public static func gloo(store: TCPStore, rank: Int, size: Int, timeout: Double) throws -> ProcessGroup {
        try make(store: store, rank: rank, size: size, timeout: timeout, cuda: .gloo)
    }

    /// Joins the group with `cuda` carrying the CUDA tensors' collectives; every rank must make the same
    /// choice. NCCL needs the CUDA companion (`CUDACompanion`), which makes c10d's ProcessGroupNCCL.
    public static func make(store: TCPStore, rank: Int, size: Int, timeout: Double,
                            cuda: CollectiveBackend) throws -> ProcessGroup {
        Runtime.prepareBackends()  // c10d may ask ATen about CUDA (Gloo's CUDA collectives, DDP's streams)
        var backend: UnsafeMutableRawPointer?
        if cuda == .nccl {
            guard let companion = CUDACompanion.shared.companion else {
                throw TorchError("NCCL: \(CUDACompanion.shared.reason ?? "the CUDA companion is unavailable")")
            }
            backend = try companion.ncclBackend(store: store, rank: rank, size: size, timeout: timeout)
        }
        guard let handle = ct_group_new(store.handle, Int32(rank), Int32(size), Int64(timeout * 1000), backend)
        else { throw TorchError.last }
        return ProcessGroup(handle: handle, rank: rank, size: size, cudaBackend: cuda, store: store)
    }

    init(handle: OpaquePointer, rank: Int, size: Int, cudaBackend: CollectiveBackend, store: TCPStore) {
        self.handle = handle
        self.rank = rank
        self.size = size
        self.cudaBackend = cudaBackend
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

/// A c10d backend: Gloo (CPU and CUDA tensors, over TCP) or NCCL (CUDA tensors, GPU to GPU).
public enum CollectiveBackend: String, Sendable, CustomStringConvertible {
    case gloo = "Gloo"
    case nccl = "NCCL"

    public var description: String { rawValue }
}
