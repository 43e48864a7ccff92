import CSM
import Foundation

/// One request's speech: what to say, and the channel its audio comes back through. The scheduler's thread
/// produces (`deliver`, `finish`); one request task consumes (`next()`); either side may `cancel()` (the client
/// went away, or the server refused it).
public final class SpeechJob: @unchecked Sendable {  // every mutable field is behind `lock`
    public struct Request: Sendable {
        public var text: String
        public var voice: String
        public var seed: UInt64
        public var maxFrames: Int

        public init(text: String, voice: String, seed: UInt64, maxFrames: Int) {
            self.text = text
            self.voice = voice
            self.seed = seed
            self.maxFrames = maxFrames
        }
    }

    public enum Event: Sendable {
        /// 24 kHz mono samples of the next chunk.
        case audio([Float])
        /// The last event: prompt positions (text tokens and context) and frames generated.
        case done(promptTokens: Int, frames: Int)
    }

    /// Thrown into generation once the job is cancelled: it stops at the next frame.
    public struct Cancelled: Error {}

    public let request: Request
    public let id: Int
    public let submitted = Date()

    private let lock = NSLock()
    private var events: [Event] = []
    private var ended = false
    private var failure: (any Error)?
    private var waiter: CheckedContinuation<Event?, any Error>?
    private var _cancelled = false

    init(request: Request, id: Int) {
        self.request = request
        self.id = id
    }

    public var isCancelled: Bool { lock.withLock { _cancelled } }

    /// Stops the job: dropped from the queue, or stopped at its next frame. A waiting `next()` throws.
    public func cancel() {
        let waiting: CheckedContinuation<Event?, any Error>? = lock.withLock {
            guard !_cancelled else { return nil }
            _cancelled = true
            if !ended { ended = true; failure = Cancelled() }
            defer { waiter = nil }
            return waiter
        }
        waiting?.resume(throwing: Cancelled())
    }

    /// The next event; nil after `.done`. Throws what generation threw, or `Cancelled`.
    public func next() async throws -> Event? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Event?, any Error>) in
                let ready: Result<Event?, any Error>? = lock.withLock {
                    if !events.isEmpty { return .success(events.removeFirst()) }
                    if ended { return failure.map { .failure($0) } ?? .success(nil) }
                    waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            cancel()
        }
    }

    // MARK: The scheduler's side

    func deliver(_ event: Event) {
        let waiting: CheckedContinuation<Event?, any Error>? = lock.withLock {
            guard !ended else { return nil }
            if case .done = event { ended = true }
            if let waiter {
                self.waiter = nil
                return waiter
            }
            events.append(event)
            return nil
        }
        waiting?.resume(returning: event)
    }

    func fail(_ error: any Error) {
        let waiting: CheckedContinuation<Event?, any Error>? = lock.withLock {
            guard !ended else { return nil }
            ended = true
            failure = error
            defer { waiter = nil }
            return waiter
        }
        waiting?.resume(throwing: error)
    }
}
