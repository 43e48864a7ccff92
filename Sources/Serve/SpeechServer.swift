import Foundation
import Hummingbird
import Logging

/// `csm serve`: OpenAI's text-to-speech API over HTTP/1.1 (Hummingbird), in front of a `SpeechScheduler`.
///
/// - `POST /v1/audio/speech`: a `SpeechRequest`; the audio streams back as it is generated (chunked), or as
///   server-sent events with `stream_format: "sse"`.
/// - `GET /v1/models`, `GET /v1/models/{id}`: OpenAI's list shape, one model (the served one's name).
/// - `GET /health`: liveness and the scheduler's counts (never needs the key).
///
/// Every refusal is OpenAI's error JSON with a 4xx status (`OpenAIError`). SIGINT/SIGTERM stop accepting
/// connections, let the requests in flight finish, then `run()` returns.
public struct SpeechServer: Sendable {
    public struct Settings: Sendable {
        public var host: String
        /// 0: any free port (the one bound is logged: "listening on http://HOST:PORT").
        public var port: Int
        /// Bearer key every route but /health requires; nil: none.
        public var apiKey: String?
        public var maxInputCharacters: Int
        /// Frames a request may generate (12.5 per second of audio).
        public var maxFrames: Int
        /// Every request's seed, unless it gives its own; nil: a random one per request.
        public var seed: UInt64?

        public init(host: String = "127.0.0.1", port: Int = 8000, apiKey: String? = nil,
                    maxInputCharacters: Int = 4096, maxFrames: Int = 125, seed: UInt64? = nil) {
            self.host = host
            self.port = port
            self.apiKey = apiKey
            self.maxInputCharacters = maxInputCharacters
            self.maxFrames = maxFrames
            self.seed = seed
        }
    }

    /// A JSON body past this is refused (413): a request is a few kilobytes of text.
    static let maxBodyBytes = 1 << 20

    public let settings: Settings
    public let scheduler: SpeechScheduler
    let modelName: String
    let sampleRate: Int
    let created = Int(Date().timeIntervalSince1970)
    let log: @Sendable (String) -> Void

    public init(settings: Settings, scheduler: SpeechScheduler, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.scheduler = scheduler
        self.log = log
        modelName = scheduler.models.name
        sampleRate = scheduler.models.codec.config.samplingRate
    }

    /// Serves until SIGINT or SIGTERM, then drains: requests in flight (queued ones included) finish first.
    public func run() async throws {
        scheduler.start()
        var logger = Logger(label: "csm-serve") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "csm-swift"),
            onServerRunning: { [log, settings, modelName] channel in
                let port = channel.localAddress?.port ?? settings.port
                log("[serve] \(modelName) listening on http://\(settings.host):\(port)")
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        log("[serve] stopped accepting; finishing queued requests")
        scheduler.drainAndStop()
        log("[serve] drained, exiting")
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: OpenAIErrorMiddleware())
        if let key = settings.apiKey { router.add(middleware: BearerKeyMiddleware(key: key)) }
        router.get("/health") { [scheduler, modelName] _, _ in
            try json(["status": "ok", "model": modelName, "requests": try jsonObject(scheduler.snapshot)])
        }
        router.get("/v1/models") { [self] _, _ in try json(["object": "list", "data": [modelObject]]) }
        router.get("/v1/models/{id}") { [self] _, context in
            guard context.parameters.get("id") == modelName else { throw modelNotFound(context.parameters.get("id") ?? "") }
            return try json(modelObject)
        }
        router.post("/v1/audio/speech") { [self] request, _ in
            // Hummingbird closes the connection after a response whose request was watched for a close (below);
            // saying so keeps a client from sending its next request down a connection about to close.
            var response: Response
            do { response = try await speech(request) } catch { response = OpenAIErrorMiddleware<BasicRequestContext>.response(for: error, request) }
            response.headers[.connection] = "close"
            return response
        }
        return router
    }

    var modelObject: [String: Any] { ["id": modelName, "object": "model", "created": created, "owned_by": "csm-swift"] }

    func modelNotFound(_ name: String) -> OpenAIError {
        OpenAIError(.notFound, "The model '\(name)' does not exist; this server serves '\(modelName)'.",
                    param: "model", code: "model_not_found")
    }

    // MARK: POST /v1/audio/speech

    /// What the request phase hands the response: the job with its first event, or (FLAC) all of it encoded.
    struct Started: Sendable {
        var request: SpeechRequest
        var job: SpeechJob
        var first: SpeechJob.Event?
        var whole: Data?
        var done: (promptTokens: Int, frames: Int)?
    }

    func speech(_ request: Request) async throws -> Response {
        let type = request.headers[.contentType] ?? "(none)"
        guard type.lowercased().hasPrefix("application/json") else {
            throw OpenAIError(.unsupportedMediaType, "Content-Type is \(type); send the request as JSON "
                + "(Content-Type: application/json).", code: "unsupported_media_type")
        }
        // Until the response starts, a client that closes its connection cancels the job (queued or speaking);
        // after, a write that fails does.
        let watch = ClientWatch()
        let started: Started = try await request.body.consumeWithInboundCloseHandler({ body in
            let bytes: ByteBuffer
            do { bytes = try await body.collect(upTo: Self.maxBodyBytes) } catch {
                // NIO's too-many-bytes error (or a client gone mid-upload, who reads no answer anyway).
                throw OpenAIError(.contentTooLarge, "The request body is larger than \(Self.maxBodyBytes) bytes.",
                                  code: "request_too_large")
            }
            let parsed = try SpeechRequest.parse(Data(buffer: bytes), maxInputCharacters: settings.maxInputCharacters)
            guard parsed.model == modelName else { throw modelNotFound(parsed.model) }
            guard scheduler.models.voice(parsed.voice) != nil else {
                throw OpenAIError.invalid("Voice '\(parsed.voice)' is not served: \(scheduler.models.voiceHint).",
                                          param: "voice")
            }
            let job = try scheduler.submit(SpeechJob.Request(
                text: parsed.input, voice: parsed.voice,
                seed: parsed.seed ?? settings.seed ?? UInt64.random(in: 0...UInt64(UInt32.max)),
                maxFrames: settings.maxFrames))
            watch.attach(job)
            let encoding = try ResponseEncoding(parsed.format, sampleRate: sampleRate)
            guard !encoding.streams else {
                // Errors before the first audio still get a status of their own.
                let first = try await job.next()
                // Hummingbird ends its watch of the connection once this returns, which reads as a close: from
                // here on, a failed write is what tells that the client went away.
                watch.detach()
                return Started(request: parsed, job: job, first: first)
            }
            var whole = Data(), done: (Int, Int)?
            while let event = try await job.next() {
                switch event {
                case .audio(let samples): whole += try encoding.chunk(samples)
                case .done(let tokens, let frames): done = (tokens, frames)
                }
            }
            whole += try encoding.end()
            watch.detach()
            return Started(request: parsed, job: job, whole: whole, done: done)
        }, onInboundClosed: { watch.clientClosed() })
        return try response(started)
    }

    func response(_ started: Started) throws -> Response {
        let sse = started.request.streamFormat == .sse
        let encoding = try ResponseEncoding(started.request.format, sampleRate: sampleRate)
        var headers = HTTPFields()
        headers[.contentType] = sse ? ServerSentEvents.contentType : encoding.contentType
        headers[.cacheControl] = "no-cache"
        let frame: @Sendable (Data) -> Data = { sse ? ServerSentEvents.delta($0) : $0 }
        if let whole = started.whole {
            var body = frame(whole)
            if sse, let done = started.done { body += ServerSentEvents.done(promptTokens: done.0, frames: done.1) }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        let job = started.job, first = started.first, format = started.request.format, rate = sampleRate
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { job.cancel() }  // the client went away (a write threw): stop generating; no-op once done
            let encoding = try ResponseEncoding(format, sampleRate: rate)
            var event = first
            var pending = encoding.start()  // the WAV header goes out with the first samples
            while let current = event {
                switch current {
                case .audio(let samples):
                    pending += try encoding.chunk(samples)
                    try await writer.write(ByteBuffer(bytes: frame(pending)))
                    pending = Data()
                case .done(let tokens, let frames):
                    if !pending.isEmpty { try await writer.write(ByteBuffer(bytes: frame(pending))) }
                    if sse { try await writer.write(ByteBuffer(bytes: ServerSentEvents.done(promptTokens: tokens,
                                                                                            frames: frames))) }
                }
                event = try await job.next()
            }
            try await writer.finish(nil)
        })
    }
}

/// Cancels a job when the client's connection closes, whether that happens before or after the job exists, until
/// `detach()`.
final class ClientWatch: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var job: SpeechJob?
    private var closed = false
    private var detached = false

    func attach(_ job: SpeechJob) {
        let cancel = lock.withLock { self.job = job; return closed }
        if cancel { job.cancel() }
    }

    func detach() { lock.withLock { detached = true } }

    func clientClosed() {
        let job: SpeechJob? = lock.withLock {
            guard !detached else { return nil }
            closed = true
            return self.job
        }
        job?.cancel()
    }
}

/// Any error of a route as OpenAI's error JSON: ours as they are, Hummingbird's (404 route, 413 body, 405) with
/// their status, anything else as a 500 that says what failed.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: error, request)
        }
    }

    static func response(for error: any Error, _ request: Request) -> Response {
        switch error {
        case let error as OpenAIError:
            return error.response
        case let error as HTTPError:
            let message: String
            switch error.status {
            case .notFound: message = "Unknown route: \(request.method) \(request.uri.path)."
            case .contentTooLarge: message = "The request body is larger than \(SpeechServer.maxBodyBytes) bytes."
            default: message = error.body ?? error.status.reasonPhrase
            }
            return OpenAIError(error.status, message).response
        case is SpeechJob.Cancelled:
            return OpenAIError(.badRequest, "The request was cancelled (the client closed its connection).").response
        default:
            return OpenAIError.serverError("Speech generation failed: \(error)").response
        }
    }
}

/// `Authorization: Bearer KEY` on every route but /health; 401 with OpenAI's message otherwise.
struct BearerKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        let given = request.headers[.authorization] ?? ""
        guard given.hasPrefix("Bearer ") else {
            throw OpenAIError(.unauthorized, "You didn't provide an API key. You need to provide your API key in an "
                + "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code: "invalid_api_key")
        }
        // Constant time in the key's length: the comparison does not stop at the first differing byte.
        let a = Array(given.dropFirst(7).utf8), b = Array(key.utf8)
        var difference = a.count ^ b.count
        for i in 0..<b.count { difference |= Int((i < a.count ? a[i] : 0) ^ b[i]) }
        guard difference == 0 else {
            throw OpenAIError(.unauthorized, "Incorrect API key provided.", code: "invalid_api_key")
        }
        return try await next(request, context)
    }
}

/// A JSON response from a dictionary (pretty enough for curl, stable key order).
func json(_ object: [String: Any]) throws -> Response {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data + Data("\n".utf8))))
}

func jsonObject<T: Encodable>(_ value: T) throws -> Any {
    try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
}
