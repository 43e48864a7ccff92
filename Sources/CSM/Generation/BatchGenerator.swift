import Foundation
import Torch

/// Continuous batching: requests (rows) join and leave between frames, and each `step()` makes one frame for every
/// row in one pass: the backbone and each depth-decoder step read their weights once for all rows, and the host reads
/// one tensor (all rows' codes). A row keeps its own prompt, positions, sampling settings, random stream and frame
/// limit, so its codes are the ones `Generator` gives it alone (same device and machine; the batch's wider matrix
/// products may round differently in the last bits, which moves a code only on a near tie): it is prefilled alone,
/// draws from its own `SeededRandom`, and the backbone's mask hides every slot that is not its own
/// (`BatchKVCache`).
///
/// A server loop calls `join` for a new request, `step` for the next frame of every row, `cancel` for a client that
/// left; one thread at a time (not thread-safe). After an error from `step` the batch's state is undefined: fail
/// its requests and make a new one.
public final class BatchGenerator {
    public typealias Options = Generator.Options

    /// A request in the batch, from `join`; never reused.
    public struct RowID: Hashable, Sendable, CustomStringConvertible {
        public let value: Int
        public var description: String { "row \(value)" }
    }

    /// One row's frame from `step()`.
    public struct FrameEvent: Equatable, Sendable {
        /// The frame's K codes.
        public let codes: [Int]
        /// The model's end-of-audio frame (codebooks 0..<K-1 all `codebook_eos_token_id`): not audio.
        public let isEndOfAudio: Bool
        /// The row's last frame (end of audio, or its `maxFrames`-th): the row has left the batch.
        public let isLast: Bool
        /// Whether `codes` are audio (to decode or stream).
        public var isAudio: Bool { !isEndOfAudio }
    }

    public let model: CSMForConditionalGeneration
    /// Rows generating at once.
    public let maxRows: Int
    /// Backbone positions a row holds: its prompt plus all its frames but the last.
    public let maxPositions: Int

    private struct Row {
        let id: RowID
        let options: Options
        var rng: SeededRandom
        var frames = 0
    }

    /// In cache row order (the order they joined).
    private var rows: [Row] = []
    let caches: BatchKVCache  // internal: tests poison its unused slots
    private let depth: DepthFrameDecoder
    /// (p, K): the last frame of rows 0..<p, not yet through the backbone (the next step runs it, so a frame reaches
    /// the caller without waiting for that pass).
    private var pendingCodes: Tensor?
    /// (rows − p, backbone hidden): the last prompt position's state of rows p..< that joined since the last step.
    private var joinedHidden: Tensor?
    private var nextID = 0

    /// Requests generating.
    public var activeCount: Int { rows.count }
    /// Their ids, in the order they joined.
    public var activeRows: [RowID] { rows.map(\.id) }
    /// Requests that can join now.
    public var freeRows: Int { maxRows - rows.count }

    /// Allocates the backbone's KV caches: `maxRows` × `maxPositions` (default: the model's
    /// `max_position_embeddings`) positions per layer, in the model's dtype and on its device.
    public init(model: CSMForConditionalGeneration, maxRows: Int, maxPositions: Int? = nil) throws {
        let c = model.config.backbone, limit = c.maxPositionEmbeddings
        let positions = maxPositions ?? limit
        guard maxRows > 0 else { throw GenerationError.invalidSetting("a batch needs at least 1 row, got \(maxRows)") }
        guard (1...limit).contains(positions) else {
            throw GenerationError.invalidSetting(
                "a batch row holds 1...\(limit) positions (the model's max_position_embeddings), got \(positions)")
        }
        self.model = model
        self.maxRows = maxRows
        self.maxPositions = positions
        caches = try BatchKVCache(rows: maxRows, capacity: positions, layers: c.numHiddenLayers,
                                  kvHeads: c.numKeyValueHeads, headDim: c.headDim, dtype: model.dtype,
                                  device: model.device)
        depth = try DepthFrameDecoder(model: model)
    }

    /// Whether `frame` is the end-of-audio frame (codebooks 0..<K-1 all `codebook_eos_token_id`).
    public func isEndOfAudio(_ frame: [Int]) -> Bool {
        frame.prefix(model.config.numCodebooks - 1).allSatisfy { $0 == model.config.codebookEosTokenId }
    }

    /// Adds a request: reads its prompt into a free row (the prefill, alone) and returns its id; its first frame comes
    /// with the next `step()`. Throws `batchFull` when every row is taken, `promptTooLong` or
    /// `exceedsBatchPositions` when the prompt and `options.maxFrames` do not fit.
    public func join(_ prompt: GenerationPrompt, options: Options) throws -> RowID {
        try options.validate()
        let limit = model.config.backbone.maxPositionEmbeddings
        if prompt.length + options.maxFrames > limit {
            throw GenerationError.promptTooLong(prompt: prompt.length, frames: options.maxFrames, limit: limit)
        }
        // The prompt, then one position per frame but the last (whose codes are not read back in).
        if prompt.length + options.maxFrames - 1 > maxPositions {
            throw GenerationError.exceedsBatchPositions(prompt: prompt.length, frames: options.maxFrames,
                                                        capacity: maxPositions)
        }
        guard rows.count < maxRows else { throw GenerationError.batchFull(rows: maxRows) }
        let config = model.config
        return try withNoGrad {
            let batch = try CSMBatch([prompt.layout(config.specialIds)], numCodebooks: config.numCodebooks,
                                     device: model.device)
            let hidden = try model.backboneModel(inputsEmbeds: model.embed(batch), mask: nil,
                                                 caches: caches.prefillCaches())
            try caches.addRow(length: prompt.length)
            let last = try hidden.select(1, hidden.size(1) - 1)  // (1, hidden)
            joinedHidden = try joinedHidden.map { try Tensor.cat([$0, last]) } ?? last
            let id = RowID(value: nextID)
            nextID += 1
            rows.append(Row(id: id, options: options, rng: SeededRandom(seed: options.seed)))
            return id
        }
    }

    /// The next frame of every row (none when the batch is empty). A row whose event `isLast` has left the batch.
    public func step() throws -> [RowID: FrameEvent] {
        guard !rows.isEmpty else { return [:] }
        let k = model.config.numCodebooks
        return try withNoGrad {
            let hidden = try advanceBackbone()  // (rows, hidden)
            var rngs = rows.map(\.rng)
            let code0 = try TokenSampler.sample(rows: model.lmHead(hidden), rows.map(\.options.settings.backbone),
                                                rngs: &rngs)
            let codes = try depth(backboneHidden: hidden, code0: code0, rows.map(\.options.settings.depthDecoder),
                                  rngs: &rngs)  // (rows, K)
            let flat = try codes.toArray(Int64.self)  // the frame's one read back to the host, every row's codes
            var events: [RowID: FrameEvent] = [:], finished = Set<Int>()
            for r in rows.indices {
                rows[r].rng = rngs[r]
                rows[r].frames += 1
                let frame = flat[r * k ..< (r + 1) * k].map(Int.init)
                let end = isEndOfAudio(frame), last = end || rows[r].frames == rows[r].options.maxFrames
                events[rows[r].id] = FrameEvent(codes: frame, isEndOfAudio: end, isLast: last)
                if last { finished.insert(r) }
            }
            pendingCodes = codes
            joinedHidden = nil
            try removeRows(finished)
            return events
        }
    }

    /// Stops a request now and frees its row; false if it is not in the batch (finished, cancelled or unknown).
    @discardableResult
    public func cancel(_ id: RowID) throws -> Bool {
        guard let r = rows.firstIndex(where: { $0.id == id }) else { return false }
        try removeRows([r])
        return true
    }

    /// Each row's last backbone state: the pending rows' last frame goes through the backbone (one position each, at
    /// its own position, in one pass), the rows that joined since bring their prompt's.
    private func advanceBackbone() throws -> Tensor {
        var parts: [Tensor] = []
        if let codes = pendingCodes {
            let p = codes.size(0), backbone = model.backboneModel
            let (positions, mask) = try caches.beginStep(rows: p)
            let x = try backbone.embedTokens(codes.view([p, 1, model.config.numCodebooks]))
            let rope = try backbone.stack.rotaryEmb(positions: positions, dtype: x.dtype)
            parts.append(try backbone.stack(x, mask: mask, caches: caches.layers, rope: rope).select(1, 0))
            try caches.endStep()
            pendingCodes = nil
        }
        if let joinedHidden { parts.append(joinedHidden) }
        joinedHidden = nil
        return parts.count == 1 ? parts[0] : try Tensor.cat(parts)
    }

    /// Frees rows (indices into `rows`) and keeps the rest, in order, in the caches' rows and the per-row tensors.
    private func removeRows(_ removed: Set<Int>) throws {
        guard !removed.isEmpty else { return }
        let order = try caches.removeRows(removed)
        let pending = pendingCodes?.size(0) ?? 0
        pendingCodes = try Self.rows(of: pendingCodes, order.filter { $0 < pending })
        joinedHidden = try Self.rows(of: joinedHidden, order.filter { $0 >= pending }.map { $0 - pending })
        rows = order.map { rows[$0] }
    }

    /// `t`'s rows `picked` (nil when none): a view when they are its leading rows, else a gather.
    private static func rows(of t: Tensor?, _ picked: [Int]) throws -> Tensor? {
        guard let t, !picked.isEmpty else { return nil }
        if picked == Array(0..<picked.count) { return picked.count == t.size(0) ? t : try t.narrow(0, 0, picked.count) }
        return try t.indexSelect(0, Tensor(picked.map(Int64.init)).to(t.device))
    }
}
