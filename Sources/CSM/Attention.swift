import Torch

/// What an attention layer keeps of earlier positions. `KVCache` holds one sequence per batch row, every row at the
/// same position; generation's `BatchKVCache` holds rows that each continue from their own position.
public protocol AttentionCache: AnyObject {
    /// Positions cached before this step (for rows at different positions, the longest row's).
    var count: Int { get }
    /// Stores this step's keys and values (batch, kv_heads, new, head_dim) and returns everything the step attends to.
    func append(_ k: Tensor, _ v: Tensor) throws -> (Tensor, Tensor)
}

/// Keys and values seen so far by one attention layer (generation appends one step at a time).
///
/// `KVCache()` grows by concatenation (any length). `KVCache(capacity:)` holds static buffers of `capacity`
/// positions, allocated at the first append and written in place; attention reads the filled prefix (a view), and
/// `reset()` empties it for reuse without freeing (the depth decoder's caches, once per frame).
/// `KVCache(keys:values:)` writes into buffers it is given (a row of `BatchKVCache`'s, for a prompt's prefill).
public final class KVCache: AttentionCache {
    /// Static buffers' positions; nil for a cache that grows.
    public let capacity: Int?
    private var keyStore: Tensor?
    private var valueStore: Tensor?
    /// Whether the static buffers were given (never reallocated) rather than allocated here.
    private let given: Bool
    private var filled = 0

    public init() {
        capacity = nil
        given = false
    }

    public init(capacity: Int) {
        precondition(capacity > 0, "KVCache: capacity must be > 0")
        self.capacity = capacity
        given = false
    }

    /// Static buffers `keys` and `values` (batch, kv_heads, capacity, head_dim), usually views into a larger buffer:
    /// appends are written there in place, from position 0.
    public init(keys: Tensor, values: Tensor) {
        capacity = keys.size(2)
        keyStore = keys
        valueStore = values
        given = true
    }

    /// Number of positions cached.
    public var count: Int { filled }

    /// Forgets every position; static buffers stay allocated for the next use.
    public func reset() {
        filled = 0
        if capacity == nil { keyStore = nil; valueStore = nil }
    }

    /// Appends (batch, kv_heads, new, head_dim) and returns everything cached.
    public func append(_ k: Tensor, _ v: Tensor) throws -> (Tensor, Tensor) {
        let new = k.size(2)
        guard let capacity else {
            if let keyStore, let valueStore, filled > 0 {
                self.keyStore = try Tensor.cat([keyStore, k], dim: 2)
                self.valueStore = try Tensor.cat([valueStore, v], dim: 2)
            } else {
                keyStore = k
                valueStore = v
            }
            filled += new
            return (keyStore!, valueStore!)
        }
        guard filled + new <= capacity else {
            throw TorchError("KVCache: \(filled) cached + \(new) new positions exceed the capacity \(capacity)")
        }
        if !given, keyStore == nil || (filled == 0 && (keyStore!.size(0) != k.size(0) || keyStore!.dtype != k.dtype)) {
            var shape = k.shape
            shape[2] = capacity
            keyStore = try Tensor.zeros(shape, dtype: k.dtype, device: k.device)
            shape[3] = v.size(3)
            valueStore = try Tensor.zeros(shape, dtype: v.dtype, device: v.device)
        }
        try keyStore!.narrow(2, filled, new).copy_(k)
        try valueStore!.narrow(2, filled, new).copy_(v)
        filled += new
        return (try keyStore!.narrow(2, 0, filled), try valueStore!.narrow(2, 0, filled))
    }
}

/// `CsmAttention`: grouped-query attention with RoPE; scaled_dot_product_attention broadcasts the kv heads
/// (`enable_gqa`) instead of repeating them. The projections are dense `Linear`s as loaded; training
/// may replace them (see `linearSlots`).
public final class Attention {
    public var qProj: any LinearLayer, kProj: any LinearLayer, vProj: any LinearLayer, oProj: any LinearLayer
    let heads: Int, kvHeads: Int, headDim: Int
    /// Mixed precision: the dtype of the projections and of attention itself (`autocast`); nil: x's own.
    public var compute: DType?

    public init(_ vb: VarBuilder, _ c: DecoderStackConfig) throws {
        heads = c.numAttentionHeads
        kvHeads = c.numKeyValueHeads
        headDim = c.headDim
        qProj = try Linear(vb.pp("q_proj"), inFeatures: c.hiddenSize, outFeatures: heads * headDim, bias: c.attentionBias)
        kProj = try Linear(vb.pp("k_proj"), inFeatures: c.hiddenSize, outFeatures: kvHeads * headDim, bias: c.attentionBias)
        vProj = try Linear(vb.pp("v_proj"), inFeatures: c.hiddenSize, outFeatures: kvHeads * headDim, bias: c.attentionBias)
        oProj = try Linear(vb.pp("o_proj"), inFeatures: heads * headDim, outFeatures: c.hiddenSize, bias: c.attentionBias)
    }

    /// x (batch, seq, hidden); cos/sin (seq, head_dim), or (batch, 1, seq, head_dim) for rows at their own positions;
    /// `mask` boolean (batch or 1, 1, seq, cached+seq), true = attend; nil = plain causal.
    public func callAsFunction(_ x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor?,
                               cache: (any AttentionCache)?) throws -> Tensor {
        let (b, t) = (x.size(0), x.size(1))
        let x = try x.autocast(compute)
        // Rotated in cos/sin's dtype (the stack's input's, as transformers): f32 q, k in the backbone.
        let q = try applyRotary(qProj(x).view([b, t, heads, headDim]).transpose(1, 2), cos: cos, sin: sin)
        var k = try applyRotary(kProj(x).view([b, t, kvHeads, headDim]).transpose(1, 2), cos: cos, sin: sin)
        var v = try vProj(x).view([b, t, kvHeads, headDim]).transpose(1, 2)
        let cached = cache?.count ?? 0
        if let cache { (k, v) = try cache.append(k, v) }
        // A single new position with no padding sees everything before it: no mask needed.
        let causal = mask == nil && t > 1
        if causal && cached > 0 {
            throw TorchError("Attention: several new positions after a cache need an explicit mask (use attentionMask)")
        }
        let y = try Tensor.scaledDotProductAttention(query: q.autocast(compute), key: k.autocast(compute),
                                                     value: v.autocast(compute), mask: mask, isCausal: causal,
                                                     enableGQA: kvHeads != heads)
        return try oProj(y.transpose(1, 2).reshape([b, t, heads * headDim]))
    }
}

/// The boolean attention mask (batch, 1, new, cached+new): causal, and padded key positions
/// (`keyValid[b][j] == false`) never attended to. Right padding keeps every real query row non-empty.
public func attentionMask(cached: Int, new: Int, keyValid: [[Bool]]?, device: Device) throws -> Tensor {
    let total = cached + new
    let rows = keyValid ?? [[Bool](repeating: true, count: total)]
    var values = [Bool]()
    values.reserveCapacity(rows.count * new * total)
    for valid in rows {
        guard valid.count == total else {
            throw TorchError("attentionMask: key mask has \(valid.count) positions, expected \(total)")
        }
        for i in 0..<new {
            for j in 0..<total { values.append(j <= cached + i && valid[j]) }
        }
    }
    return try Tensor(values, shape: [rows.count, 1, new, total]).to(device)
}
