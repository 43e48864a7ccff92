import Audio
import CSM
import Dataset
import Foundation
import Mimi
import Tokenizer
import Torch

/// One held-out sentence to speak and judge: the prompt (context turns + the text), and recordings of the target
/// speaker to compare the generated voice with.
public struct EvaluationSentence {
    /// `<language>/<conversation>#<segment number>` for a preprocessed set, the folder name for a `--gen_from` folder.
    public var id: String
    /// The dataset's language folder (passed to the ASR model), nil when unknown.
    public var language: String?
    public var text: String
    public var speaker: Int
    public var prompt: GenerationPrompt
    /// The target speaker's recordings at the codec's rate (the speaker-similarity reference).
    public var references: [[Float]]

    public init(id: String, language: String?, text: String, speaker: Int, prompt: GenerationPrompt,
                references: [[Float]]) {
        self.id = id
        self.language = language
        self.text = text
        self.speaker = speaker
        self.prompt = prompt
        self.references = references
    }
}

extension EvaluationSentence {
    /// `count` samples of a preprocessed set (seeded choice among `candidates`, default all samples; the order of
    /// the set when `count` covers them all). Each sample's last turn is the sentence, spoken with its context turns
    /// as the prompt. The text is the stored text ids decoded (without the `[K]` prefix); the references are that
    /// speaker's recorded turns of the sample (the target's own recording included) decoded from their stored Mimi
    /// codes, so reference and generated audio pass through the same codec. With `maskSpeakerIds` (a model trained
    /// with --mask_speaker_ids) every prompt turn's text, the sentence's included, is laid out as it was trained:
    /// without the `[K]` prefix (`SpeakerMasking`, which reads the raw dataset's scripts).
    public static func from(preprocessed dataset: PreprocessedDataset, tokenizer: Tokenizer, codec: MimiModel,
                            count: Int, seed: UInt64, candidates: [Int]? = nil, contextTurns: Int? = nil,
                            maskSpeakerIds: Bool = false) throws -> [EvaluationSentence] {
        let pool = candidates ?? Array(0..<dataset.count)
        guard !pool.isEmpty else { throw EvaluationError.noSentences("\(dataset.folder.path) has no samples") }
        var rng = SeededRandom(seed: seed)
        let chosen = count >= pool.count ? pool : Array(pool.shuffled(using: &rng).prefix(count)).sorted()
        var masking = maskSpeakerIds ? try SpeakerMasking(dataset: dataset, tokenizer: tokenizer) : nil
        return try chosen.map { i in
            let sample = try masking?.sample(i, contextTurns: contextTurns) ?? dataset.sample(i, contextTurns: contextTurns)
            let ref = dataset.manifest.samples[i]
            let conversation = dataset.manifest.conversations[ref.conversation]
            let target = sample.turns[sample.turns.count - 1]
            let segment = conversation.segments[ref.segments[ref.segments.count - 1]]
            let references = try sample.turns.filter { $0.speaker == target.speaker }.map {
                try Speech.decode($0.codes, codec: codec).samples
            }
            return EvaluationSentence(
                id: "\(conversation.id)#\(segment.number)", language: conversation.id.split(separator: "/").first.map(String.init),
                text: spokenText(tokenizer.decode(target.textIds, skipSpecialTokens: true)), speaker: target.speaker,
                prompt: GenerationPrompt(context: Array(sample.turns.dropLast()), textIds: target.textIds),
                references: references)
        }
    }

    /// A `--gen_from` folder (segments/script.txt + wavs; its last line is the sentence), or a folder of such folders
    /// (one sentence each, in name order). References: the context recordings by the last line's speaker, and the
    /// last line's own recording when the folder has one. `language` names the ASR language (nil: detect).
    public static func from(genFrom folder: URL, layout: TurnLayout, codec: MimiModel,
                            language: String?) throws -> [EvaluationSentence] {
        let script = folder.appendingPathComponent("segments/script.txt")
        let folders: [URL]
        if FileManager.default.fileExists(atPath: script.path) {
            folders = [folder]
        } else {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            folders = names.sorted().map { folder.appendingPathComponent($0) }.filter {
                FileManager.default.fileExists(atPath: $0.appendingPathComponent("segments/script.txt").path)
            }
            guard !folders.isEmpty else {
                throw EvaluationError.noSentences("\(folder.path) has no segments/script.txt, nor subfolders with one "
                    + "(the --gen_from layout: segments/script.txt with [K]: text lines, segment_NNNN_speakerK.wav)")
            }
        }
        return try folders.map { url in
            let lines = try ContextFolder(url)
            let target = lines.target
            let prompt = try GenerationPrompt.load(folder: url, layout: layout, codec: codec)
            let rate = codec.config.samplingRate
            var files = lines.context.filter { $0.speaker == target.speaker }.compactMap(\.audio)
            if let own = target.audio { files.append(own) }
            guard !files.isEmpty else {
                throw EvaluationError.noReference("\(url.path): no recording of speaker [\(target.speaker + 1)] (the "
                    + "last line's speaker) to compare the generated voice with; add a context line of that speaker")
            }
            return EvaluationSentence(id: url.lastPathComponent, language: language, text: target.text,
                                      speaker: target.speaker, prompt: prompt,
                                      references: try files.map { try AudioFile.loadMono($0, sampleRate: rate) })
        }
    }

    /// Decoded turn text without CSM's `[K]` speaker prefix.
    static func spokenText(_ decoded: String) -> String {
        var text = Substring(decoded.trimmingCharacters(in: .whitespaces))
        if text.first == "[", let close = text.firstIndex(of: "]"), Int(text[text.index(after: text.startIndex)..<close]) != nil {
            text = text[text.index(after: close)...]
        }
        return text.trimmingCharacters(in: .whitespaces)
    }
}

public enum EvaluationError: Error, CustomStringConvertible {
    case noSentences(String)
    case noReference(String)
    case cannotLoad(String)

    public var description: String {
        switch self {
        case .noSentences(let why): return "speech evaluation: no sentences: \(why)"
        case .noReference(let why): return "speech evaluation: \(why)"
        case .cannotLoad(let why): return "speech evaluation: \(why)"
        }
    }
}
