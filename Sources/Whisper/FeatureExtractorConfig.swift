import Foundation

/// `preprocessor_config.json` of a Whisper checkpoint (`WhisperFeatureExtractor`'s settings).
public struct FeatureExtractorConfig: Codable, Equatable, Sendable {
    /// Mel bins (80; 128 for large-v3).
    public var featureSize = 80
    public var samplingRate = 16_000
    public var hopLength = 160
    /// Seconds per window: clips are padded with zeros or cut to this length.
    public var chunkLength = 30
    public var nFFT = 400
    public var paddingValue = 0.0
    public var dither = 0.0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case featureSize = "feature_size", samplingRate = "sampling_rate", hopLength = "hop_length"
        case chunkLength = "chunk_length", nFFT = "n_fft", paddingValue = "padding_value", dither
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FeatureExtractorConfig()
        featureSize = try c.decodeIfPresent(Int.self, forKey: .featureSize) ?? d.featureSize
        samplingRate = try c.decodeIfPresent(Int.self, forKey: .samplingRate) ?? d.samplingRate
        hopLength = try c.decodeIfPresent(Int.self, forKey: .hopLength) ?? d.hopLength
        chunkLength = try c.decodeIfPresent(Int.self, forKey: .chunkLength) ?? d.chunkLength
        nFFT = try c.decodeIfPresent(Int.self, forKey: .nFFT) ?? d.nFFT
        paddingValue = try c.decodeIfPresent(Double.self, forKey: .paddingValue) ?? d.paddingValue
        dither = try c.decodeIfPresent(Double.self, forKey: .dither) ?? d.dither
    }

    public static func load(folder: URL) throws -> FeatureExtractorConfig {
        let file = folder.appendingPathComponent("preprocessor_config.json")
        let config: FeatureExtractorConfig = try decodeJSON(file, what: "a Whisper folder with its preprocessor_config.json")
        guard config.dither == 0 else {
            // Dither adds random noise to every frame: transcripts would no longer be reproducible.
            throw WhisperError.invalidConfig("\(file.path): dither \(config.dither) is not supported; set it to 0.0")
        }
        guard config.featureSize > 0, config.hopLength > 0, config.nFFT > 1, config.samplingRate > 0,
              config.chunkLength > 0 else {
            throw WhisperError.invalidConfig("\(file.path): feature_size, hop_length, n_fft, sampling_rate and "
                                             + "chunk_length must be positive")
        }
        return config
    }

    /// Samples per window (480 000 at 16 kHz × 30 s).
    public var samplesPerWindow: Int { chunkLength * samplingRate }
    /// Frames per window (3000): the encoder's input length.
    public var framesPerWindow: Int { samplesPerWindow / hopLength }
}
