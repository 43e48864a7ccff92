import ArgumentParser
import CSM
import Foundation
import Hub
import Serve
import Torch

/// `csm serve`: the model behind OpenAI's text-to-speech HTTP API.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a base or fine-tuned model over OpenAI's text-to-speech HTTP API.",
        discussion: """
            POST /v1/audio/speech takes OpenAI's JSON (model, input, voice, response_format wav|pcm|flac, \
            stream_format audio|sse; speed 1 only; seed, an extension) and streams the audio back while it is \
            generated: wav (a header with open-ended sizes, then 16-bit samples), pcm (16-bit little-endian mono at \
            24 kHz), flac (sent when complete). GET /v1/models lists the served model (its id is \
            --served_model_name, by default the model folder's name or the hub id), GET /health says it is up.

            Voices: --voices FILE (YAML or JSON) maps names to a context folder in the --gen_from layout, an \
            optional adapter folder and an optional speaker id; without it, the voices are the speaker ids 0, 1, … \
            with no context. Up to --max_batch requests are generated together, frame by frame (one pass over the \
            weights per frame for all of them); the others wait in a queue (--max_queue; beyond it 429). A client \
            that disconnects stops its generation. Binds 127.0.0.1 unless --host says otherwise; with \
            --api_key every route but /health needs "Authorization: Bearer KEY". SIGINT/SIGTERM stop accepting, \
            finish the requests in flight and exit 0.
            """
    )

    @Option(name: [.customLong("model_id"), .customLong("model-id")], help: "Model folder or Hugging Face hub id.")
    var modelId: String = "unsloth/csm-1b"

    @Option(name: [.customLong("served_model_name"), .customLong("served-model-name")],
            help: "The model id requests give (default: the model folder's name, or the hub id).")
    var servedModelName: String?

    @Option(help: "PEFT LoRA adapter folder for every voice that names none.")
    var adapter: String?

    @Option(help: "Voices file (YAML/JSON): name → {context: folder, adapter: folder, speaker: id}.")
    var voices: String?

    @Option(help: "Address to bind; 0.0.0.0 exposes the server to the network.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port; the one bound is logged).")
    var port: Int = 8000

    @Option(name: [.customLong("api_key"), .customLong("api-key")],
            help: "Require 'Authorization: Bearer KEY' on every route but /health.")
    var apiKey: String?

    @Option(name: [.customLong("max_input_chars"), .customLong("max-input-chars")],
            help: "Longest input text accepted, in characters (OpenAI: 4096).")
    var maxInputChars: Int = 4096

    @Option(name: [.customLong("max_queue"), .customLong("max-queue")],
            help: "Requests that may wait behind the one being spoken; more get 429.")
    var maxQueue: Int = 32

    @Option(name: [.customLong("max_batch"), .customLong("max-batch")],
            help: "Requests generated together, frame by frame (rows of the batch; each holds a KV cache of the model's positions).")
    var maxBatch: Int = 8

    @Option(name: [.customLong("chunk_frames"), .customLong("chunk-frames")],
            help: "Frames (80 ms each) decoded and sent at a time.")
    var chunkFrames: Int = 2

    @Option(name: [.customLong("max_audio_seconds"), .customLong("max-audio-seconds")],
            help: "Longest audio a request may generate, in seconds (12.5 frames per second).")
    var maxAudioSeconds: Double = 10

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Seed of every request that gives none (default: a random one per request).")
    var seed: UInt64?

    @OptionGroup var quantization: QuantizationOptions
    @OptionGroup var masking: SpeakerMaskingOption

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard maxInputChars > 0 else { throw ValidationError("--max_input_chars must be ≥ 1") }
        guard maxQueue >= 0 else { throw ValidationError("--max_queue must be ≥ 0") }
        guard maxBatch > 0 else { throw ValidationError("--max_batch must be ≥ 1, got \(maxBatch)") }
        guard chunkFrames > 0 else { throw ValidationError("--chunk_frames must be ≥ 1, got \(chunkFrames)") }
        guard maxAudioSeconds > 0, maxAudioSeconds.isFinite else {
            throw ValidationError("--max_audio_seconds must be > 0, got \(maxAudioSeconds)")
        }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api_key is empty") }
    }

    func run() throws {
        let (device, dtype) = try runtime.resolve(generation: true)
        let voiceFile = try voices.map { try VoiceFile.load(URL(fileURLWithPath: $0)) }
        let folder = try ModelLocator.resolve(modelId)
        let name = servedModelName
            ?? (FileManager.default.fileExists(atPath: modelId) ? URL(fileURLWithPath: modelId).lastPathComponent : modelId)
        let settings = try sampling.settings(folder: folder)
        let start = Date()
        let models = try SpeechModels(
            folder: folder, name: name, voiceFile: voiceFile, settings: settings,
            options: .init(dtype: dtype, device: device, maskSpeakerIds: masking.maskSpeakerIds, adapter: adapter.map { URL(fileURLWithPath: $0) },
                           quantization: try quantization.scheme()),
            log: log)
        log(String(format: "[serve] loaded %@ on %@ (%@) in %.1f s: %d model instance(s), voices: %@", name,
                   "\(device)", "\(dtype)", Date().timeIntervalSince(start), models.models.count,
                   voiceFile == nil ? "speaker ids 0, 1, …" : models.voiceNames.joined(separator: ", ")))
        let scheduler = SpeechScheduler(models: models, limits: .init(maxQueued: maxQueue, chunkFrames: chunkFrames,
                                                                      maxBatch: maxBatch),
                                        log: log)
        let server = SpeechServer(
            settings: .init(host: host, port: port, apiKey: apiKey, maxInputCharacters: maxInputChars,
                            maxFrames: Generator.Options.frames(seconds: maxAudioSeconds), seed: seed),
            scheduler: scheduler, log: log)
        // ArgumentParser's run() is synchronous: the server runs on Swift's concurrency threads until a signal.
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
        Task {
            do { try await server.run() } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }
}

private func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
