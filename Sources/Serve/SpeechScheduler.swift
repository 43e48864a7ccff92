import CSM
import Foundation
import Mimi
import Torch

/// Owns the models on one thread of its own and speaks the queued requests frame by frame: libtorch's work never
/// runs on Swift's cooperative threads (two on a 2-core machine: a blocked one would stall HTTP handling), and
/// no tensor is shared between threads.
///
/// One request is generated at a time, the others wait in arrival order (bounded by `maxQueued`: beyond it
/// `submit` refuses with 429). Each frame checks the request's cancellation, so a client that disconnects stops
/// its generation within a frame. Audio leaves through each request's `SpeechStream` (incremental Mimi decode),
/// `chunkFrames` frames at a time.
public final class SpeechScheduler: @unchecked Sendable {  // mutable state is behind `condition`
    public struct Limits: Sendable {
        /// Requests waiting (not counting the one being spoken) before new ones get 429.
        public var maxQueued: Int
        /// Frames decoded and sent at a time (80 ms each).
        public var chunkFrames: Int

        public init(maxQueued: Int = 32, chunkFrames: Int = 2) {
            self.maxQueued = maxQueued
            self.chunkFrames = chunkFrames
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

    private func loop() {
        while let job = nextJob() {
            speak(job)
            condition.withLock { counts.active = 0 }
        }
        finished.signal()
    }

    /// The next job not cancelled while it waited; nil once stopped with nothing left.
    private func nextJob() -> SpeechJob? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while let job = queue.first {
                queue.removeFirst()
                if job.isCancelled { counts.cancelled += 1; continue }
                counts.active = 1
                return job
            }
            if stopped { return nil }
            condition.wait()
        }
    }

    private func speak(_ job: SpeechJob) {
        let request = job.request
        var frames = 0
        do {
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
            let generator = Generator(model: models.models[voice.model])
            do { try generator.checkLength(prompt, frames: request.maxFrames) } catch let e as GenerationError {
                throw OpenAIError.invalid("\(e)", param: "input", code: "context_length_exceeded")
            }
            let options = Generator.Options(maxFrames: request.maxFrames, settings: models.settings, seed: request.seed)
            let stream = try SpeechStream(codec: models.codec, chunkFrames: limits.chunkFrames) { samples in
                job.deliver(.audio(samples))
            }
            let started = Date()
            let output = try generator.generate(prompt, options: options, streamingTo: stream) { _ in
                if job.isCancelled { throw SpeechJob.Cancelled() }
                frames += 1
            }
            job.deliver(.done(promptTokens: prompt.length, frames: output.audioFrames.count))
            let seconds = Date().timeIntervalSince(started)
            log(String(format: "[serve] request %d: voice %@, %d frames in %.2f s (%.1f frames/s), waited %.2f s",
                       job.id, request.voice, frames, seconds, Double(frames) / max(seconds, 1e-9),
                       started.timeIntervalSince(job.submitted)))
            condition.withLock { counts.completed += 1; counts.frames += frames }
        } catch is SpeechJob.Cancelled {
            log("[serve] request \(job.id): cancelled after \(frames) frames (the client went away)")
            condition.withLock { counts.cancelled += 1; counts.frames += frames }
        } catch {
            log("[serve] request \(job.id): failed: \(error)")
            job.fail(error)
            condition.withLock { counts.failed += 1; counts.frames += frames }
        }
    }
}
