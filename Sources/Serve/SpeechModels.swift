import Audio
import CSM
import Foundation
import Mimi
import Tokenizer
import Torch

/// Everything a request is spoken with, loaded once at start-up: the model (one instance per distinct adapter
/// of the voices, so a voice's LoRA never leaks into another's audio), the codec, the tokenizer's turn layout,
/// the sampling defaults and the voices with their context already encoded by Mimi.
///
/// Used only on the scheduler's thread once serving starts (libtorch objects are not shared between threads).
public final class SpeechModels {
    public struct Voice {
        public var name: String
        public var speaker: Int
        /// The context turns (text + Mimi codes) every request of this voice continues.
        public var context: [Turn]
        /// Index into `models`.
        public var model: Int
    }

    /// The model id requests name (`model` in the request, `id` in `/v1/models`).
    public let name: String
    public let models: [CSMForConditionalGeneration]
    public let codec: MimiModel
    public let layout: TurnLayout
    public let settings: GenerationSettings
    /// nil: no voices file, a voice is a speaker id of the base model (`models[0]`).
    public let voices: [String: Voice]?
    public let voiceNames: [String]

    public struct LoadOptions {
        public var dtype: DType
        public var device: Device
        /// The base model's adapter (`--adapter`), under voices that name none.
        public var adapter: URL?
        public var quantization: WeightQuantization?

        /// The model was trained with `--mask_speaker_ids`: prompts without the `[K]` prefix.
        public var maskSpeakerIds: Bool

        public init(dtype: DType, device: Device, maskSpeakerIds: Bool = false, adapter: URL? = nil,
                    quantization: WeightQuantization? = nil) {
            self.dtype = dtype
            self.maskSpeakerIds = maskSpeakerIds
            self.device = device
            self.adapter = adapter
            self.quantization = quantization
        }
    }

    public init(folder: URL, name: String, voiceFile: VoiceFile?, settings: GenerationSettings, options: LoadOptions,
                log: (String) -> Void) throws {
        self.name = name
        self.settings = settings
        codec = try MimiModel.load(folder: folder, device: options.device)
        layout = try TurnLayout(tokenizer: Tokenizer(folder: folder), maskSpeakerIds: options.maskSpeakerIds)

        // One model per distinct adapter (nil: --adapter or none), in the order voices first need them.
        var adapters: [URL?] = []
        func modelIndex(_ adapter: URL?) -> Int {
            if let i = adapters.firstIndex(of: adapter) { return i }
            adapters.append(adapter)
            return adapters.count - 1
        }
        var voices: [String: Voice]?
        if let voiceFile {
            var byName = [String: Voice]()
            for entry in voiceFile.entries {
                var context = [Turn](), speaker = entry.speaker ?? 0
                if let folder = entry.context {
                    // The prompt of `csm generate --context` with the text left to each request.
                    let prompt = try GenerationPrompt.load(folder: folder, layout: layout, codec: codec)
                    context = prompt.context
                    speaker = try entry.speaker ?? ContextFolder(folder).target.speaker
                }
                byName[entry.name] = Voice(name: entry.name, speaker: speaker, context: context,
                                           model: modelIndex(entry.adapter ?? options.adapter))
            }
            voices = byName
            voiceNames = voiceFile.entries.map(\.name)
        } else {
            _ = modelIndex(options.adapter)
            voiceNames = []
        }
        self.voices = voices
        models = try adapters.map { adapter in
            let model: CSMForConditionalGeneration
            if let scheme = options.quantization {
                let report: ProjectionQuantizationReport
                (model, report) = try CSMForConditionalGeneration.load(folder: folder, dtype: options.dtype,
                                                                       device: options.device, quantization: scheme)
                log("[serve] quantized \(report.quantized) projections to \(scheme.description)")
            } else {
                model = try CSMForConditionalGeneration.load(folder: folder, dtype: options.dtype, device: options.device)
            }
            if let adapter {  // LoRA wraps the quantized projections, as in QLoRA
                let lora = try PEFTAdapter.load(adapter, into: model)
                log("[serve] adapter \(adapter.path): LoRA r=\(lora.rank), alpha=\(lora.alpha)")
            }
            return model
        }
    }

    /// The voice a request names: a name of the voices file, or without one a speaker id (`"0"`, `"1"`, …).
    public func voice(_ name: String) -> Voice? {
        if let voices { return voices[name] }
        guard let id = Int(name), id >= 0, String(id) == name else { return nil }
        return Voice(name: name, speaker: id, context: [], model: 0)
    }

    /// What an unknown voice's error lists.
    public var voiceHint: String {
        voices == nil ? "voices are the model's speaker ids 0, 1, … (no voices file given)"
            : "voices: " + voiceNames.joined(separator: ", ")
    }
}
