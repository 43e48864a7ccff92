/// Gradient averaging after backward: the gradients are packed into flat buckets of at most
/// `bucketCapMB` (consecutive parameters of one dtype and device), each summed over the group by
/// one all-reduce, and unpacked.
///
/// The alternative to `GradientReducer` for a backward that recomputes parts of forward
/// (activation checkpointing): the reducer finds the parameters a step used by walking the graph
/// before backward, and cannot see those a recomputation uses (torch's DDP has the same limit with
/// reentrant checkpointing). Here nothing overlaps with backward, which costs little when the
/// gradients are LoRA's few megabytes.
public final class BucketedAllReduce: @unchecked Sendable {
    let group: ProcessGroup
    let buckets: [[Tensor]]

    public init(parameters: [Tensor], group: ProcessGroup, bucketCapMB: Int = 25) {
        var buckets: [[Tensor]] = [], current: [Tensor] = [], bytes = 0
        for p in parameters {
            let size = p.count * p.dtype.byteSize
            if let first = current.first, bytes + size > bucketCapMB << 20 || p.dtype != first.dtype || p.device != first.device {
                buckets.append(current)
                (current, bytes) = ([], 0)
            }
            current.append(p)
            bytes += size
        }
        if !current.isEmpty { buckets.append(current) }
        self.group = group
        self.buckets = buckets
    }

    /// Replaces every parameter's gradient by its mean over the group (a missing gradient counts as zeros).
    public func averageGradients() throws {
        try withNoGrad {
            for bucket in buckets {
                let flat = try Tensor.cat(bucket.map { p in
                    try (p.grad ?? Tensor.zeros(p.shape, dtype: p.dtype, device: p.device)).reshape([-1])
                })
                try group.allReduceSum(flat)
                let mean = try flat / Double(group.size)
                var offset = 0
                for p in bucket {
                    let part = try mean.narrow(0, offset, p.count).reshape(p.shape)
                    if let grad = try p.grad { try grad.copy_(part) } else { try p.setGrad(part.clone()) }
                    offset += p.count
                }
            }
        }
    }
}
