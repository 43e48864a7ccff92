import Foundation
import Hub
import Torch
import WavLM
import Whisper

extension SpeechJudges {
    /// The files of a WavLMForXVector repository (`--speaker_model` as a hub id).
    static let speakerFiles = ["config.json", "preprocessor_config.json", "model.safetensors"]

    /// Loads `--asr_model` and `--speaker_model` (local folders or hub ids through the Hugging Face cache) onto
    /// `device`, once. Errors say which flag and what to pass.
    public static func load(asrModel: String?, speakerModel: String?, device: Device,
                            log: (String) -> Void = { _ in }) throws -> SpeechJudges {
        guard asrModel != nil || speakerModel != nil else {
            throw EvaluationError.cannotLoad("speech evaluation needs --asr_model (e.g. openai/whisper-base) and/or "
                + "--speaker_model (e.g. microsoft/wavlm-base-plus-sv)")
        }
        var encoder: SpeakerEncoder?
        if let speakerModel {
            do {
                let folder = try resolveModel(speakerModel, files: speakerFiles)
                encoder = try SpeakerEncoder(folder: folder, device: device)
            } catch { throw EvaluationError.cannotLoad("--speaker_model \(speakerModel): \(error)") }
            log("[speech] speaker model \(speakerModel): \(megabytes(encoder!.parameterBytes)) MB of weights on \(device)")
        }
        var recognizer: SpeechRecognizer?
        if let asrModel {
            do { recognizer = try loadRecognizer(asrModel, device: device) } catch let error as EvaluationError {
                throw error
            } catch { throw EvaluationError.cannotLoad("--asr_model \(asrModel): \(error)") }
            log("[speech] ASR model \(asrModel): \(megabytes(recognizer!.parameterBytes)) MB of weights on \(device)")
        }
        return SpeechJudges(recognizer: recognizer, asrModel: asrModel, speakerEncoder: encoder, speakerModel: speakerModel)
    }

    /// The files of a Whisper repository (`--asr_model` as a hub id).
    static let whisperFiles = ["config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json",
                               "model.safetensors"]

    /// The ASR models this build runs, by `config.json`'s `model_type`: Whisper (`WhisperForConditionalGeneration`).
    static func loadRecognizer(_ id: String, device: Device) throws -> SpeechRecognizer {
        let folder = try resolveModel(id, files: ["config.json"])
        let config = folder.appendingPathComponent("config.json")
        let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: config))) as? [String: Any]
        let type = json?["model_type"] as? String ?? "unknown"
        guard type == "whisper" else {
            throw EvaluationError.cannotLoad("--asr_model \(id): \(config.path) is a '\(type)' model; --asr_model needs "
                + "a Whisper checkpoint (WhisperForConditionalGeneration), e.g. openai/whisper-base")
        }
        return try WhisperTranscriber(folder: resolveModel(id, files: whisperFiles), device: device)
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_000_000) }
}

/// Whisper's transcriber is the ASR model of speech evaluation (its `transcribe` and `parameterBytes` are the protocol's).
extension WhisperTranscriber: SpeechRecognizer {}
