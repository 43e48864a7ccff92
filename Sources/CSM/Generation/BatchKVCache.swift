import Torch

/// The backbone's KV caches for rows that each continue their own prompt (`BatchGenerator`): per layer, static
/// buffers (rows, kv_heads, capacity, head_dim) allocated once and written in place.
///
/// Rows 0..<`active` hold requests, kept packed in the order they joined, so a step over rows 0..<n reads the views
/// `narrow(0, 0, n)`; a new row is prefilled into row `active`. Row r has `lengths[r]` positions filled. A step writes
/// each row's new keys and values at that row's next slot and attends slots 0...max(lengths); when the rows' lengths
/// differ, a mask hides from each row every slot after its own (padding, or what an earlier request left there).
final class BatchKVCache {
    let rows: Int
    let capacity: Int
    /// One per backbone layer: what `Attention` reads and writes.
    private(set) var layers: [Layer] = []
    /// Positions filled per active row, on the host (to shape each step) and on the device (positions, writes, mask).
    private(set) var lengths: [Int] = []
    private var deviceLengths: Tensor
    private let kvHeads: Int
    private let device: Device
    /// Set between `beginStep` and `endStep`: the flat slot each (row, kv head) writes, the rows stepping, and the
    /// slots they attend.
    fileprivate var step: (writeIndex: Tensor, rows: Int, attended: Int)?

    var active: Int { lengths.count }

    /// One layer's buffers; appends only during a step (`beginStep` … `endStep`).
    final class Layer: AttentionCache {
        let keys: Tensor, values: Tensor
        unowned let owner: BatchKVCache

        init(keys: Tensor, values: Tensor, owner: BatchKVCache) {
            self.keys = keys
            self.values = values
            self.owner = owner
        }

        var count: Int { owner.lengths.max() ?? 0 }

        /// k, v (the step's rows, kv_heads, 1, head_dim): row r's go to slot `lengths[r]`, in one indexed write each.
        func append(_ k: Tensor, _ v: Tensor) throws -> (Tensor, Tensor) {
            guard let step = owner.step, k.size(0) == step.rows, k.size(2) == 1 else {
                throw TorchError("BatchKVCache: appends one position for each row of a step, inside the step")
            }
            let n = step.rows
            for (store, new) in [(keys, k), (values, v)] {
                let dim = store.size(3)
                try store.view([owner.rows * owner.kvHeads * owner.capacity, dim])
                    .indexPut_(step.writeIndex, new.reshape([n * owner.kvHeads, dim]))
            }
            return (try keys.narrow(0, 0, n).narrow(2, 0, step.attended),
                    try values.narrow(0, 0, n).narrow(2, 0, step.attended))
        }
    }

    init(rows: Int, capacity: Int, layers count: Int, kvHeads: Int, headDim: Int, dtype: DType, device: Device) throws {
        self.rows = rows
        self.capacity = capacity
        self.kvHeads = kvHeads
        self.device = device
        deviceLengths = try Tensor.zeros([0], dtype: .i64, device: device)
        layers = try (0..<count).map { _ in
            try Layer(keys: Tensor.zeros([rows, kvHeads, capacity, headDim], dtype: dtype, device: device),
                      values: Tensor.zeros([rows, kvHeads, capacity, headDim], dtype: dtype, device: device), owner: self)
        }
    }

    /// Caches over the next free row's slots, for the backbone's prefill of a prompt (a batch of one, positions from
    /// 0); `addRow(length:)` then makes that row active.
    func prefillCaches() throws -> [KVCache] {
        guard active < rows else { throw TorchError("BatchKVCache: all \(rows) rows are in use") }
        return try layers.map {
            KVCache(keys: try $0.keys.narrow(0, active, 1), values: try $0.values.narrow(0, active, 1))
        }
    }

    /// Makes the row `prefillCaches()` filled active, with `length` positions.
    func addRow(length: Int) throws {
        lengths.append(length)
        deviceLengths = try Tensor.cat([deviceLengths, Tensor([Int64(length)]).to(device)])
    }

    /// Frees the `removed` rows and packs the rest, in their order, into rows 0..<active (each kept row's filled slots
    /// copied down past the freed ones: a few MB per row, once). Returns, for each new row, the old row it holds.
    func removeRows(_ removed: Set<Int>) throws -> [Int] {
        let order = (0..<active).filter { !removed.contains($0) }
        for (new, old) in order.enumerated() where new != old {  // new < old, and row old is not yet overwritten
            for layer in layers {
                for store in [layer.keys, layer.values] {
                    try store.select(0, new).narrow(1, 0, lengths[old]).copy_(store.select(0, old).narrow(1, 0, lengths[old]))
                }
            }
        }
        lengths = order.map { lengths[$0] }
        deviceLengths = order == Array(0..<order.count) ? try deviceLengths.narrow(0, 0, order.count)
            : try deviceLengths.indexSelect(0, Tensor(order.map(Int64.init)).to(device))
        return order
    }

    /// Prepares a step that adds one position to each of rows 0..<`count` (those after them sit it out): returns
    /// their positions ((count,) int64, on the device) and the attention mask (count, 1, 1, slots) when their lengths
    /// differ (nil when they are equal: every row then attends exactly its own slots).
    func beginStep(rows count: Int) throws -> (positions: Tensor, mask: Tensor?) {
        guard count > 0, count <= active else {
            throw TorchError("BatchKVCache: a step over \(count) rows, \(active) are active")
        }
        let stepLengths = lengths.prefix(count), longest = stepLengths.max()!
        guard longest < capacity else {
            throw TorchError("BatchKVCache: a row has filled all \(capacity) positions of the cache")
        }
        let positions = try count == active ? deviceLengths : deviceLengths.narrow(0, 0, count)
        // Row r, kv head h writes flat slot (r·kv_heads + h)·capacity + lengths[r] of the (rows·kv_heads·capacity,
        // head_dim) view.
        let base = try Tensor.arange(0, Double(count * kvHeads * capacity), step: Double(capacity), dtype: .i64,
                                     device: device)
        step = (try base + positions.repeatInterleave(kvHeads, dim: 0), count, longest + 1)
        let mask = stepLengths.allSatisfy({ $0 == longest }) ? nil
            : try Tensor.arange(longest + 1, device: device).unsqueeze(0).le(positions.unsqueeze(1))
                .view([count, 1, 1, longest + 1])
        return (positions, mask)
    }

    /// Ends the step: each row that took part has one more position.
    func endStep() throws {
        guard let step else { return }
        self.step = nil
        for r in 0..<step.rows { lengths[r] += 1 }
        let one = try Tensor.ones([1], dtype: .i64, device: device)
        deviceLengths = step.rows == active ? try deviceLengths + one
            : try Tensor.cat([deviceLengths.narrow(0, 0, step.rows) + one,
                              deviceLengths.narrow(0, step.rows, active - step.rows)])
    }
}
