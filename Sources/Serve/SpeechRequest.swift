import Foundation

/// The body of `POST /v1/audio/speech`, as openai-python's `audio.speech.create` sends it, checked field by field
/// so that every refusal names the field (`param`) and what is accepted.
///
/// Fields: `model`, `input`, `voice` (a name, or OpenAI's custom-voice object `{"id": name}`), `response_format`
/// (`wav` — the default here, since OpenAI's default mp3 is not produced —, `pcm`, `flac`), `stream_format`
/// (`audio` or `sse`), `speed` (only 1: CSM has no rate control, and resampling would shift the pitch),
/// `instructions` (refused unless empty: CSM takes no style prompt), and `seed`, this server's extension (an
/// integer: the same seed, voice and input give the same audio as `csm generate --seed`).
public struct SpeechRequest: Equatable, Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case wav, pcm, flac
    }

    public enum StreamFormat: String, Sendable {
        case audio, sse
    }

    public var model: String
    public var input: String
    public var voice: String
    public var format: Format
    public var streamFormat: StreamFormat
    public var seed: UInt64?

    public init(model: String, input: String, voice: String, format: Format = .wav,
                streamFormat: StreamFormat = .audio, seed: UInt64? = nil) {
        self.model = model
        self.input = input
        self.voice = voice
        self.format = format
        self.streamFormat = streamFormat
        self.seed = seed
    }

    static let known: Set<String> = ["model", "input", "voice", "response_format", "stream_format", "speed",
                                     "instructions", "seed"]

    /// Parses and checks a request body; `maxInputCharacters` bounds `input` (OpenAI's limit is 4096).
    public static func parse(_ body: Data, maxInputCharacters: Int) throws -> SpeechRequest {
        guard let object = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            throw OpenAIError.invalid("We could not parse the JSON body of your request. (HINT: This likely means "
                + "you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)", param: nil)
        }
        guard let json = object as? [String: Any] else {
            throw OpenAIError.invalid("The request body must be a JSON object.", param: nil)
        }
        if let unknown = json.keys.sorted().first(where: { !known.contains($0) }) {
            throw OpenAIError.invalid("Unrecognized request argument supplied: \(unknown)", param: unknown)
        }
        func string(_ key: String, required: Bool) throws -> String? {
            guard let value = json[key], !(value is NSNull) else {
                if required { throw OpenAIError.invalid("Missing required parameter: '\(key)'.", param: key) }
                return nil
            }
            guard let s = value as? String else {
                throw OpenAIError.invalid("Invalid type for '\(key)': expected a string.", param: key)
            }
            return s
        }

        let model = try string("model", required: true)!
        let input = try string("input", required: true)!
        guard !input.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw OpenAIError.invalid("'input' is empty: give the text to speak.", param: "input")
        }
        guard input.count <= maxInputCharacters else {
            throw OpenAIError.invalid("'input' is \(input.count) characters; this server takes at most "
                + "\(maxInputCharacters) (--max_input_chars).", param: "input", code: "string_above_max_length")
        }

        let voice: String
        if let object = json["voice"] as? [String: Any] {
            guard let id = object["id"] as? String else {
                throw OpenAIError.invalid("Invalid 'voice': expected a name or {\"id\": name}.", param: "voice")
            }
            voice = id
        } else {
            voice = try string("voice", required: true)!
        }

        let formatName = try string("response_format", required: false) ?? Format.wav.rawValue
        guard let format = Format(rawValue: formatName) else {
            let supported = Format.allCases.map(\.rawValue).joined(separator: ", ")
            throw OpenAIError.invalid("response_format '\(formatName)' is not supported by this server; "
                + "supported: \(supported).", param: "response_format")
        }
        let streamName = try string("stream_format", required: false) ?? StreamFormat.audio.rawValue
        guard let streamFormat = StreamFormat(rawValue: streamName) else {
            throw OpenAIError.invalid("stream_format '\(streamName)' is not one of: audio, sse.", param: "stream_format")
        }

        if let speed = json["speed"], !(speed is NSNull) {
            guard let number = speed as? NSNumber else {
                throw OpenAIError.invalid("Invalid type for 'speed': expected a number.", param: "speed")
            }
            guard number.doubleValue == 1 else {
                throw OpenAIError.invalid("speed \(number) is not supported: CSM has no speaking-rate control "
                    + "(only 1.0 is accepted).", param: "speed")
            }
        }
        if let instructions = try string("instructions", required: false), !instructions.isEmpty {
            throw OpenAIError.invalid("'instructions' are not supported: CSM takes no style prompt; a voice's "
                + "context recordings set how it speaks.", param: "instructions")
        }

        var seed: UInt64?
        if let value = json["seed"], !(value is NSNull) {
            guard let number = value as? NSNumber, let s = UInt64(exactly: number.doubleValue) else {
                throw OpenAIError.invalid("'seed' must be an integer ≥ 0.", param: "seed")
            }
            seed = s
        }
        return SpeechRequest(model: model, input: input, voice: voice, format: format, streamFormat: streamFormat,
                             seed: seed)
    }
}
