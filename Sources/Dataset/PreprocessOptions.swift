import Foundation

/// The arguments of `csm preprocess` that shape its output (the seed's names and defaults). Stored in the
/// output so that a resumed run with other arguments is refused instead of mixing two datasets.
public struct PreprocessOptions: Codable, Equatable, Sendable {
    /// Absolute, standardized path of the raw dataset.
    public var inputPath: String
    public var modelId: String
    public var numContextTurns: Int = 3
    public var maxAudioSeconds: Double = 10.0
    public var minAudioSeconds: Double = 0.5
    public var textMaxLength: Int = 256

    enum CodingKeys: String, CodingKey {
        case inputPath = "input_path", modelId = "model_id", numContextTurns = "num_context_turns"
        case maxAudioSeconds = "max_audio_seconds", minAudioSeconds = "min_audio_seconds"
        case textMaxLength = "text_max_length"
    }

    public init(inputPath: String, modelId: String = "unsloth/csm-1b", numContextTurns: Int = 3,
                maxAudioSeconds: Double = 10.0, minAudioSeconds: Double = 0.5, textMaxLength: Int = 256) {
        self.inputPath = URL(fileURLWithPath: inputPath).standardizedFileURL.path
        self.modelId = modelId
        self.numContextTurns = numContextTurns
        self.maxAudioSeconds = maxAudioSeconds
        self.minAudioSeconds = minAudioSeconds
        self.textMaxLength = textMaxLength
    }

    public func validate() throws {
        func bad(_ m: String) -> DatasetError { .invalidArgument(m) }
        guard numContextTurns >= 0 else { throw bad("--num_context_turns must be ≥ 0 (got \(numContextTurns))") }
        guard minAudioSeconds >= 0, maxAudioSeconds > 0, minAudioSeconds.isFinite, maxAudioSeconds.isFinite else {
            throw bad("--min_audio_seconds and --max_audio_seconds must be finite, ≥ 0 and > 0")
        }
        guard minAudioSeconds <= maxAudioSeconds else {
            throw bad("--min_audio_seconds \(minAudioSeconds) is above --max_audio_seconds \(maxAudioSeconds)")
        }
        guard textMaxLength > 0 else { throw bad("--text_max_length must be > 0 (got \(textMaxLength))") }
    }
}

/// The header shared by `preprocess.json` (written first, to detect a changed resume) and `manifest.json`.
public struct PreprocessSettings: Codable, Equatable, Sendable {
    public var format = Manifest.formatName
    public var formatVersion = Manifest.formatVersion
    public var fingerprint: Fingerprint
    public var arguments: PreprocessOptions

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", fingerprint, arguments
    }

    public init(fingerprint: Fingerprint, arguments: PreprocessOptions) {
        self.fingerprint = fingerprint
        self.arguments = arguments
    }

    /// Human-readable differences, e.g. `--num_context_turns 3 → 2`.
    public func differences(from old: PreprocessSettings) -> [String] {
        var out: [String] = []
        func check<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { out.append("\(name) \(b) → \(a)") } }
        check("format version", formatVersion, old.formatVersion)
        check("--input_path", arguments.inputPath, old.arguments.inputPath)
        check("--model_id", arguments.modelId, old.arguments.modelId)
        check("--num_context_turns", arguments.numContextTurns, old.arguments.numContextTurns)
        check("--max_audio_seconds", arguments.maxAudioSeconds, old.arguments.maxAudioSeconds)
        check("--min_audio_seconds", arguments.minAudioSeconds, old.arguments.minAudioSeconds)
        check("--text_max_length", arguments.textMaxLength, old.arguments.textMaxLength)
        if fingerprint.tokenizer != old.fingerprint.tokenizer { out.append("tokenizer fingerprint changed") }
        if fingerprint.codec != old.fingerprint.codec { out.append("codec (Mimi weights) fingerprint changed") }
        return out
    }
}
