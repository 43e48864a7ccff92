import Foundation

/// W&B history rows on their way to `file_stream`. The training loop only appends to a bounded buffer; a background
/// thread posts the rows in batches, so a slow or unreachable service never holds up a training step. When the
/// buffer is full the oldest rows go (metrics.jsonl keeps every step). All state is guarded by `condition`.
final class HistoryStream: @unchecked Sendable {
    /// Posts `rows` (JSON lines) that follow the `offset` rows already sent.
    typealias Send = (_ rows: [String], _ offset: Int) throws -> Void

    private let capacity: Int
    private let batchSize: Int
    private let send: Send
    private let complete: (_ exitCode: Int) throws -> Void
    private let warn: (String) -> Void
    private let condition = NSCondition()
    private var rows: [String] = []
    /// False once a post failed, `finish` ended or gave up: later rows are ignored.
    private var open = true
    /// Set by `finish`: send what is left, then `complete`.
    private var exitCode: Int?
    private var droppedRows = 0
    private let stopped = DispatchSemaphore(value: 0)

    init(capacity: Int, batchSize: Int = 100, send: @escaping Send, complete: @escaping (Int) throws -> Void,
         warn: @escaping (String) -> Void) {
        self.capacity = max(capacity, 1)
        self.batchSize = max(batchSize, 1)
        self.send = send
        self.complete = complete
        self.warn = warn
        Thread { [self] in run() }.start()
    }

    var isOpen: Bool { condition.withLock { open } }
    var dropped: Int { condition.withLock { droppedRows } }

    /// Queues one row; never waits for the network.
    func append(_ row: String) {
        let firstDrop = condition.withLock { () -> Bool in
            guard open, exitCode == nil else { return false }
            var first = false
            if rows.count >= capacity {
                rows.removeFirst()
                droppedRows += 1
                first = droppedRows == 1
            }
            rows.append(row)
            condition.signal()
            return first
        }
        if firstDrop {
            warn("W&B: the service is not keeping up; dropping the oldest unsent rows (at most \(capacity) wait)")
        }
    }

    /// Sends the queued rows and `complete`, waiting at most `seconds` for them (the process may exit right after).
    func finish(exitCode code: Int, waitAtMost seconds: TimeInterval) {
        let first = condition.withLock { () -> Bool in
            guard open, exitCode == nil else { return false }
            exitCode = code
            condition.signal()
            return true
        }
        guard first else { return }
        let timedOut = stopped.wait(timeout: .now() + seconds) == .timedOut
        let (left, lost) = condition.withLock { () -> (Int, Int) in
            defer { open = false; rows.removeAll() }
            return (rows.count, droppedRows)
        }
        if timedOut {
            warn("W&B: gave up after \(Int(seconds)) s with \(left) rows unsent; the run stays open on the server")
        }
        if lost > 0 { warn("W&B: \(lost) rows were dropped in all (metrics.jsonl has every step)") }
    }

    private func run() {
        defer { stopped.signal() }
        var offset = 0
        while true {
            condition.lock()
            while open, rows.isEmpty, exitCode == nil { condition.wait() }
            guard open else { return condition.unlock() }
            let batch = Array(rows.prefix(batchSize))
            rows.removeFirst(batch.count)
            let closing = exitCode
            condition.unlock()
            do {
                if !batch.isEmpty {
                    try send(batch, offset)
                    offset += batch.count
                } else if let closing {
                    try complete(closing)
                    return
                }
            } catch {
                let wasOpen = condition.withLock { () -> Bool in
                    defer { open = false; rows.removeAll() }
                    return open
                }
                guard wasOpen else { return }  // `finish` gave up already and said so
                warn(batch.isEmpty ? "W&B: cannot mark the run complete (\(error))"
                    : "W&B: cannot send metrics (\(error)); training continues without W&B")
                return
            }
        }
    }
}
