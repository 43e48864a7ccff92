import CTorch

/// DistributedDataParallel's gradient synchronisation (c10d::Reducer): the parameters are grouped
/// into buckets, and during an armed backward each bucket is all-reduced as soon as all of its
/// gradients are ready, overlapping communication with the rest of backward. When backward
/// returns, every rank holds the gradients averaged over the group.
///
/// Backward passes that are not armed just accumulate locally, which is how gradient
/// accumulation skips communication on all but the last micro-batch (DDP's `no_sync`).
public final class GradientReducer: @unchecked Sendable {
    let handle: OpaquePointer  // the c10d Reducer holds its own references to the group and the parameters

    /// - Parameters:
    ///   - bucketCapMB: DDP's `bucket_cap_mb`.
    ///   - findUnusedParameters: walk the graph before backward so parameters it does not reach
    ///     (a batch without depth-decoder targets, say) count as ready instead of stalling.
    public init(parameters: [Tensor], group: ProcessGroup, bucketCapMB: Int = 25, findUnusedParameters: Bool = true) throws {
        Runtime.prepareBackends()  // c10d may ask ATen about CUDA (DDP's streams and events)
        let handles: [OpaquePointer?] = parameters.map { $0.handle }
        guard let handle = ct_reducer_new(group.handle, handles, Int64(handles.count), Int64(bucketCapMB) << 20,
                                          findUnusedParameters ? 1 : 0)
        else { throw TorchError.last }
        self.handle = handle
    }

    deinit { ct_reducer_free(handle) }

    /// Arms the next backward from `outputs` (the loss) to average the gradients over the group.
    public func prepareForBackward(_ outputs: [Tensor]) throws {
        let handles: [OpaquePointer?] = outputs.map { $0.handle }
        try check(ct_reducer_prepare_for_backward(handle, handles, Int64(handles.count)))
    }
}
