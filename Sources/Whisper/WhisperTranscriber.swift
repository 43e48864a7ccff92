import Audio
import Foundation
import Torch

/// Whisper speech recognition for evaluation: a checkpoint folder loaded once, greedy transcription of batches of
/// clips, as `WhisperForConditionalGeneration.generate(language=…, task="transcribe")` + `batch_decode(…,
/// skip_special_tokens=True)` with `WhisperFeatureExtractor` in front.
///
/// The folder holds config.json, model.safetensors, preprocessor_config.json, tokenizer.json and
/// generation_config.json (a Hugging Face `openai/whisper-*` snapshot). Clips longer than the window (30 s) are cut
/// to it, as transformers' short-form path does.
public final class WhisperTranscriber {
    public let model: WhisperModel
    public let generation: WhisperGenerationConfig
    public let features: LogMelSpectrogram
    public let text: TranscriptDecoder
    /// Clips per encoder batch (bounds memory: one whisper-base clip's encoder activations are ~30 MB in f32).
    public var batchSize = 16

    public init(folder: URL, device: Device = .cpu, dtype: DType = .f32) throws {
        model = try WhisperModel.load(folder: folder, device: device, dtype: dtype)
        generation = try WhisperGenerationConfig.load(folder: folder)
        let extractor = try FeatureExtractorConfig.load(folder: folder)
        guard extractor.featureSize == model.config.numMelBins else {
            throw WhisperError.invalidConfig("\(folder.path): preprocessor_config.json has feature_size "
                + "\(extractor.featureSize) but config.json num_mel_bins \(model.config.numMelBins)")
        }
        features = try LogMelSpectrogram(config: extractor, device: device)
        text = try TranscriptDecoder(folder: folder)
    }

    public var parameterBytes: Int { model.parameterBytes }

    /// Greedy transcription of mono clips at `sampleRate` (resampled to the checkpoint's rate, 16 kHz, inside).
    /// `language` is a Whisper language code ("en", "de", …) or nil to detect each clip's language.
    public func transcribe(_ clips: [[Float]], sampleRate: Int, language: String?) throws -> [String] {
        try tokens(clips, sampleRate: sampleRate, language: language).map(text.decode)
    }

    /// The generated token ids of each clip (no prompt, no eos).
    public func tokens(_ clips: [[Float]], sampleRate: Int, language: String?) throws -> [[Int]] {
        guard sampleRate > 0 else { throw WhisperError.badInput("sample rate must be positive (got \(sampleRate))") }
        let rate = features.config.samplingRate
        let languageId: Int?
        if let language, generation.multilingual {
            languageId = try generation.languageId(language)
        } else if let language, language.lowercased() != "en" {
            throw WhisperError.badInput("this checkpoint is English-only (no lang_to_id in generation_config.json); "
                                        + "language '\(language)' cannot be transcribed")
        } else {
            languageId = nil
        }
        var result: [[Int]] = []
        result.reserveCapacity(clips.count)
        var start = 0
        while start < clips.count {
            let end = min(start + max(1, batchSize), clips.count)
            let batch = try clips[start..<end].map { clip -> [Float] in
                sampleRate == rate ? clip : try Resampler.resample(clip, from: Double(sampleRate), to: Double(rate))
            }
            result += try tokens(features: features(batch), languageId: languageId, detect: language == nil)
            start = end
        }
        return result
    }

    /// Generated ids for log-mel `features` (batch, mel bins, 3000): one language for all rows, or detection.
    public func tokens(features: Tensor, languageId: Int?, detect: Bool) throws -> [[Int]] {
        let states = try model.encode(features)
        let decoding = GreedyDecoding(model: model, generation: generation)
        let languages = languageId.map { Array(repeating: $0, count: states.size(0)) }
        return try decoding(encoderStates: states, languages: detect && generation.multilingual ? nil : languages)
    }

    /// transformers' `detect_language` on log-mel features: one language token id per row.
    public func detectLanguages(features: Tensor) throws -> [Int] {
        let states = try model.encode(features)
        let decoding = GreedyDecoding(model: model, generation: generation)
        return try decoding.detectLanguages(cache: model.makeCache(encoderStates: states), batch: states.size(0))
    }
}
