import CSM
import Foundation
import Mimi
import Torch

/// Owns the models on one thread of its own and speaks the queued requests frame by frame, batched: libtorch's
/// work never runs on Swift's cooperative threads (two on a 2-core machine: a blocked one would stall HTTP
/// handling), and no tensor is shared between threads.
///
/// Each model instance (one per distinct adapter) has a `BatchGenerator` of `maxBatch` rows. Between frames,
/// requests join from the queue in arrival order (each prefilled alone) while rows are free, and every step makes
/// one frame for all of a batch's rows in one pass (the weights are read once per frame for all of them); a request
/// leaves at its end-of-audio frame or its frame limit. Beyond the rows, requests wait (at most `maxQueued`:
/// beyond, `submit` refuses with 429). Cancellation (a client that disconnected) is checked every frame: the row
/// leaves the batch before the next. Each request's audio leaves through its own `SpeechStream` (incremental Mimi
/// decode), `chunkFrames` frames at a time.
public final class SpeechScheduler: @unchecked Sendable {  // mutable state is behind `condition`
    public struct Limits: Sendable {
        /// Requests waiting (not counting those in a batch) before new ones get 429.
        public var maxQueued: Int
        /// Frames decoded and sent at a time (80 ms each).
        public var chunkFrames: Int
        /// Requests generated together (rows of each model's batch).
        public var maxBatch: Int

        public init(maxQueued: Int = 32, chunkFrames: Int = 2, maxBatch: Int = 8) {
            self.maxQueued = maxQueued
            self.chunkFrames = chunkFrames
            self.maxBatch = maxBatch
        }
    }

    /// What /health reports.
    public struct Counts: Sendable, Codable {
        public var queued: Int
        public var active: Int
        public var completed: Int
        public var cancelled: Int
        public var failed: Int
        /// Audio frames generated since start (12.5 per second of audio).
        public var frames: Int
    }

    public let models: SpeechModels
    public let limits: Limits
    private let log: @Sendable (String) -> Void
    private let condition = NSCondition()
    private var queue: [SpeechJob] = []
    private var counts = Counts(queued: 0, active: 0, completed: 0, cancelled: 0, failed: 0, frames: 0)
    private var accepting = true
    private var stopped = false
    private var nextId = 1
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    public init(models: SpeechModels, limits: Limits, log: @escaping @Sendable (String) -> Void) {
        self.models = models
        self.limits = limits
        self.log = log
    }

    public func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "csm-serve-scheduler"
        thread.stackSize = 16 << 20  // libtorch's and the model's recursion is deeper than the 512 KB default
        self.thread = thread
        thread.start()
    }

    public var snapshot: Counts { condition.withLock { var c = counts; c.queued = queue.count; return c } }

    /// Queues a request; throws OpenAI's 429 when `maxQueued` are already waiting, 503 once the server is stopping.
    public func submit(_ request: SpeechJob.Request) throws -> SpeechJob {
        try condition.withLock {
            guard accepting else {
                throw OpenAIError(.serviceUnavailable, "The server is shutting down.", type: "server_error",
                                  code: "server_shutting_down")
            }
            queue.removeAll { $0.isCancelled }
            guard queue.count < limits.maxQueued else {
                throw OpenAIError(.tooManyRequests, "\(queue.count) requests are already waiting (the server's "
                    + "--max_queue); retry shortly.", type: "requests", code: "rate_limit_exceeded")
            }
            let job = SpeechJob(request: request, id: nextId)
            nextId += 1
            queue.append(job)
            condition.signal()
            return job
        }
    }

    /// Refuses new requests, lets the queued and running ones finish, then ends the thread.
    public func drainAndStop() {
        condition.withLock {
            accepting = false
            stopped = true
            condition.signal()
        }
        if thread != nil { finished.wait() }
    }

    // MARK: The scheduler's thread

    /// A request in a batch.
    private final class Speaking {
        let job: SpeechJob
        let row: BatchGenerator.RowID
        let stream: SpeechStream
        let promptLength: Int
        let started = Date()
        var frames = 0

        init(job: SpeechJob, row: BatchGenerator.RowID, stream: SpeechStream, promptLength: Int) {
            self.job = job
            self.row = row
            self.stream = stream
            self.promptLength = promptLength
        }
    }

    private func loop() {
        // Made on this thread: the KV caches are the batch's (rows × the model's positions per layer).
        var batches: [BatchGenerator?] = models.models.map { _ in nil }
        var speaking: [[Speaking]] = models.models.map { _ in [] }
        while true {
            admit(into: &batches, &speaking)
            let busy = speaking.indices.filter { !speaking[$0].isEmpty }
            if busy.isEmpty {
                guard waitForWork() else { break }
                continue
            }
            for m in busy {
                step(batches[m]!, &speaking[m])
                dropCancelled(batches[m]!, &speaking[m])
                if speaking[m].isEmpty, batches[m]!.activeCount > 0 { batches[m] = nil }  // after a failed step
            }
            condition.withLock { counts.active = speaking.reduce(0) { $0 + $1.count } }
        }
        finished.signal()
    }

    /// Blocks until a request is queued (true) or the server stops with none left (false).
    private func waitForWork() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            if stopped { return false }
            condition.wait()
        }
        return true
    }

    /// Moves queued requests into free rows, in arrival order; a request whose model's batch is full waits (and so,
    /// to keep the order, do the ones behind it).
    private func admit(into batches: inout [BatchGenerator?], _ speaking: inout [[Speaking]]) {
        while true {
            let job: SpeechJob? = condition.withLock {
                queue.removeAll { job in
                    if job.isCancelled { counts.cancelled += 1 }
                    return job.isCancelled
                }
                guard let first = queue.first else { return nil }
                let m = models.voice(first.request.voice)?.model ?? 0
                guard speaking[m].count < limits.maxBatch else { return nil }
                return queue.removeFirst()
            }
            guard let job else { return }
            do {
                let (m, entry) = try join(job, &batches)
                speaking[m].append(entry)
                log("[serve] request \(job.id): joins the batch (\(speaking[m].count) of at most \(limits.maxBatch) rows)")
                condition.withLock { counts.active += 1 }
            } catch {
                finish(job, frames: 0, error: error)
            }
        }
    }

    /// The request's prompt into a row of its model's batch (the prefill).
    private func join(_ job: SpeechJob, _ batches: inout [BatchGenerator?]) throws -> (Int, Speaking) {
        let request = job.request
        guard let voice = models.voice(request.voice) else {
            throw OpenAIError.invalid("Voice '\(request.voice)' is not served: \(models.voiceHint).", param: "voice")
        }
        let prompt: GenerationPrompt
        do {
            prompt = try GenerationPrompt(context: voice.context, text: request.text, speaker: voice.speaker,
                                          layout: models.layout)
        } catch let e as GenerationError {
            throw OpenAIError.invalid("\(e)", param: "input")
        }
        let batch = try batches[voice.model] ?? BatchGenerator(model: models.models[voice.model],
                                                                maxRows: limits.maxBatch)
        batches[voice.model] = batch
        let options = Generator.Options(maxFrames: request.maxFrames, settings: models.settings, seed: request.seed)
        let row: BatchGenerator.RowID
        do { row = try batch.join(prompt, options: options) } catch let e as GenerationError {
            switch e {
            case .promptTooLong, .exceedsBatchPositions:
                throw OpenAIError.invalid("\(e)", param: "input", code: "context_length_exceeded")
            default: throw e
            }
        }
        let stream = try SpeechStream(codec: models.codec, chunkFrames: limits.chunkFrames) { samples in
            job.deliver(.audio(samples))
        }
        return (voice.model, Speaking(job: job, row: row, stream: stream, promptLength: prompt.length))
    }

    /// One frame for every row of `batch`: audio frames go to their streams; finished rows are done.
    private func step(_ batch: BatchGenerator, _ speaking: inout [Speaking]) {
        let events: [BatchGenerator.RowID: BatchGenerator.FrameEvent]
        do { events = try batch.step() } catch {
            // The batch's state is undefined after a failed step: fail its requests (the caller drops the batch).
            for entry in speaking { finish(entry.job, frames: entry.frames, error: error) }
            speaking.removeAll()
            return
        }
        speaking.removeAll { entry in
            guard let event = events[entry.row] else { return false }
            do {
                if event.isAudio {
                    entry.frames += 1
                    try entry.stream.append(event.codes)
                }
                guard event.isLast else { return false }
                try entry.stream.finish()
                entry.job.deliver(.done(promptTokens: entry.promptLength, frames: entry.frames))
                let seconds = Date().timeIntervalSince(entry.started)
                log(String(format: "[serve] request %d: voice %@, %d frames in %.2f s (%.1f frames/s), waited %.2f s",
                           entry.job.id, entry.job.request.voice, entry.frames, seconds,
                           Double(entry.frames) / max(seconds, 1e-9),
                           entry.started.timeIntervalSince(entry.job.submitted)))
                finish(entry.job, frames: entry.frames, error: nil)
            } catch {
                _ = try? batch.cancel(entry.row)
                finish(entry.job, frames: entry.frames, error: error)
            }
            return true
        }
    }

    /// Rows whose client went away leave the batch before the next frame.
    private func dropCancelled(_ batch: BatchGenerator, _ speaking: inout [Speaking]) {
        speaking.removeAll { entry in
            guard entry.job.isCancelled else { return false }
            _ = try? batch.cancel(entry.row)
            log("[serve] request \(entry.job.id): cancelled after \(entry.frames) frames (the client went away)")
            finish(entry.job, frames: entry.frames, error: SpeechJob.Cancelled())
            return true
        }
    }

    private func finish(_ job: SpeechJob, frames: Int, error: (any Error)?) {
        if let error, !(error is SpeechJob.Cancelled) {
            log("[serve] request \(job.id): failed: \(error)")
            job.fail(error)
        }
        condition.withLock {
            switch error {
            case nil: counts.completed += 1
            case is SpeechJob.Cancelled: counts.cancelled += 1
            default: counts.failed += 1
            }
            counts.frames += frames
        }
    }
}
