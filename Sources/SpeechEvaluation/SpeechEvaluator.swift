import CSM
import Foundation
import Mimi
import SpeechMetrics
import Torch
import WavLM

/// The models that judge generated speech, loaded once: an ASR model for WER/CER and a WavLM x-vector model for
/// speaker similarity. Either may be absent; its metrics are then left out of the JSON.
public final class SpeechJudges {
    public let recognizer: SpeechRecognizer?
    public let speakerEncoder: SpeakerEncoder?
    /// What was given as `--asr_model` / `--speaker_model` (written to the report).
    public let asrModel: String?, speakerModel: String?

    public init(recognizer: SpeechRecognizer?, asrModel: String?, speakerEncoder: SpeakerEncoder?, speakerModel: String?) {
        self.recognizer = recognizer
        self.speakerEncoder = speakerEncoder
        self.asrModel = asrModel
        self.speakerModel = speakerModel
    }

    /// Bytes of both models' weights (what judging adds to the device's memory, activations aside).
    public var parameterBytes: Int { (recognizer?.parameterBytes ?? 0) + (speakerEncoder?.parameterBytes ?? 0) }
}

/// One sentence's outcome in `speech_eval.json`.
public struct SentenceResult: Codable, Equatable {
    public var id: String
    public var language: String?
    public var text: String
    public var transcript: String?
    public var wer: Double?, cer: Double?
    public var wordEdits: Int?, referenceWords: Int?, charEdits: Int?, referenceChars: Int?
    public var similarity: Double?
    public var seconds: Double
    /// The model emitted its end-of-audio frame before the length limit.
    public var stoppedAtEnd: Bool
    /// The generated wav, relative to the JSON's folder; nil when not written.
    public var wav: String?

    enum CodingKeys: String, CodingKey {
        case id, language, text, transcript, wer, cer, similarity, seconds, wav
        case wordEdits = "word_edits", referenceWords = "reference_words", charEdits = "char_edits"
        case referenceChars = "reference_chars", stoppedAtEnd = "stopped_at_end"
    }
}

/// `speech_eval.json`: every sentence, and over all of them WER and CER as jiwer aggregates a corpus (total edits /
/// total reference words or characters) and the mean speaker similarity.
public struct SpeechReport: Codable, Equatable {
    public var sentences: [SentenceResult]
    public var wer: Double?, cer: Double?, similarity: Double?
    public var asrModel: String?, speakerModel: String?
    public var normalizer = SpeechReport.normalizerStatement

    public static let normalizerStatement = "lower-case; Unicode punctuation (category P) removed; whitespace runs "
        + "collapsed to one space and trimmed; numbers and symbols left as written (jiwer: ToLowerCase, "
        + "RemovePunctuation, SubstituteRegexes({'\\s+': ' '}), Strip)"

    enum CodingKeys: String, CodingKey {
        case sentences, wer, cer, similarity, normalizer
        case asrModel = "asr_model", speakerModel = "speaker_model"
    }

    /// The summary over `sentences` (what `wer`, `cer`, `similarity` hold).
    public static func summarize(_ sentences: [SentenceResult], asrModel: String?, speakerModel: String?) -> SpeechReport {
        let words = sentences.compactMap { s in s.wordEdits.map { EditCount(edits: $0, referenceLength: s.referenceWords!) } }
        let chars = sentences.compactMap { s in s.charEdits.map { EditCount(edits: $0, referenceLength: s.referenceChars!) } }
        let similarities = sentences.compactMap(\.similarity)
        return SpeechReport(sentences: sentences, wer: words.isEmpty ? nil : EditCount.rate(words),
                            cer: chars.isEmpty ? nil : EditCount.rate(chars),
                            similarity: similarities.isEmpty ? nil : similarities.reduce(0, +) / Double(similarities.count),
                            asrModel: asrModel, speakerModel: speakerModel)
    }
}

/// Speaks each sentence with the model (its context as the prompt, seeded sampling), transcribes the audio,
/// embeds it, and scores it. Reference embeddings are computed once per sentence list and reused, so calling
/// `run` at every `--eval_speech_every` step only pays for generation and judging the new audio.
public final class SpeechEvaluator {
    public let codec: MimiModel
    public let judges: SpeechJudges
    public let sentences: [EvaluationSentence]
    public var settings: GenerationSettings
    public var seed: UInt64
    public var maxAudioSeconds: Double
    private var referenceEmbeddings: [[[Float]]]?

    public init(codec: MimiModel, judges: SpeechJudges, sentences: [EvaluationSentence],
                settings: GenerationSettings = GenerationSettings(), seed: UInt64 = 0, maxAudioSeconds: Double = 10) {
        self.codec = codec
        self.judges = judges
        self.sentences = sentences
        self.settings = settings
        self.seed = seed
        self.maxAudioSeconds = maxAudioSeconds
    }

    /// Sentence `i` is sampled with seed `seed + i`, so every run (every checkpoint) draws the same numbers.
    /// Wavs go to `wavFolder/<NNN>.wav` when given. The model is left as found (adapter dropout off while
    /// speaking, restored after; no gradient; libtorch's random state untouched).
    public func run(model: CSMForConditionalGeneration, wavFolder: URL? = nil,
                    progress: ((Int) -> Void)? = nil) throws -> SpeechReport {
        let adapters = model.loraAdapters.map(\.lora)
        let wasTraining = adapters.map(\.training)
        model.setTraining(false)
        defer { for (lora, on) in zip(adapters, wasTraining) { lora.training = on } }

        var audio: [Speech.Audio] = [], stopped: [Bool] = []
        let generator = Generator(model: model)
        for (i, sentence) in sentences.enumerated() {
            let options = Generator.Options(maxFrames: Generator.Options.frames(seconds: maxAudioSeconds),
                                            settings: settings, seed: seed &+ UInt64(i))
            let output = try generator.generate(sentence.prompt, options: options)
            audio.append(try Speech.decode(output.audioFrames, codec: codec))
            stopped.append(output.stoppedAtEnd)
            progress?(i + 1)
        }
        let rate = codec.config.samplingRate
        let transcripts = try transcribe(audio.map(\.samples), rate: rate)
        let similarities = try similarity(audio.map(\.samples), rate: rate)

        var results: [SentenceResult] = []
        for (i, sentence) in sentences.enumerated() {
            var wav: String?
            if let wavFolder {
                let name = String(format: "%03d.wav", i)
                try Speech.write(audio[i], to: wavFolder.appendingPathComponent(name))
                wav = wavFolder.lastPathComponent + "/" + name
            }
            var r = SentenceResult(id: sentence.id, language: sentence.language, text: sentence.text,
                                   transcript: transcripts?[i], similarity: similarities?[i] ?? nil,
                                   seconds: audio[i].seconds, stoppedAtEnd: stopped[i], wav: wav)
            if let transcript = transcripts?[i] {
                let words = EditCount.words(reference: sentence.text, hypothesis: transcript)
                let chars = EditCount.characters(reference: sentence.text, hypothesis: transcript)
                r.wer = words.rate
                r.wordEdits = words.edits
                r.referenceWords = words.referenceLength
                r.cer = chars.rate
                r.charEdits = chars.edits
                r.referenceChars = chars.referenceLength
            }
            results.append(r)
        }
        return SpeechReport.summarize(results, asrModel: judges.asrModel, speakerModel: judges.speakerModel)
    }

    /// Transcripts in sentence order; clips are sent per language, all of a language in one call (the recognizer
    /// batches them). An empty clip (the model stopped at once) has the empty transcript.
    func transcribe(_ clips: [[Float]], rate: Int) throws -> [String]? {
        guard let recognizer = judges.recognizer else { return nil }
        var out = [String](repeating: "", count: clips.count)
        let languages = Dictionary(grouping: sentences.indices.filter { !clips[$0].isEmpty }) { sentences[$0].language ?? "" }
        for (language, indices) in languages.sorted(by: { $0.key < $1.key }) {
            let texts = try recognizer.transcribe(indices.map { clips[$0] }, sampleRate: rate,
                                                  language: language.isEmpty ? nil : language)
            for (i, text) in zip(indices, texts) { out[i] = text }
        }
        return out
    }

    /// Each clip's cosine similarity with its sentence's reference speaker; nil for a clip too short to embed or a
    /// sentence whose references all are.
    func similarity(_ clips: [[Float]], rate: Int) throws -> [Double?]? {
        guard let encoder = judges.speakerEncoder else { return nil }
        let rateRatio = Double(encoder.preprocessing.samplingRate) / Double(rate)
        // A clip must still hold `minimumSamples` at the model's rate (resampling keeps the duration).
        func embeddable(_ clip: [Float]) -> Bool { Int(Double(clip.count) * rateRatio) >= encoder.config.minimumSamples }
        if referenceEmbeddings == nil {
            let kept = sentences.map { $0.references.filter(embeddable) }
            let vectors = try encoder.embed(kept.flatMap { $0 }, sampleRate: rate)
            var offset = 0
            referenceEmbeddings = kept.map { refs in
                defer { offset += refs.count }
                return Array(vectors[offset..<offset + refs.count])
            }
        }
        let usable = clips.indices.filter { embeddable(clips[$0]) && !referenceEmbeddings![$0].isEmpty }
        let vectors = try encoder.embed(usable.map { clips[$0] }, sampleRate: rate)
        var out = [Double?](repeating: nil, count: clips.count)
        for (i, v) in zip(usable, vectors) {
            out[i] = SpeakerEncoder.similarity(v, reference: referenceEmbeddings![i])
        }
        return out
    }
}
