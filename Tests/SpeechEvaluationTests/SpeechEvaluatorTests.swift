import Audio
import CSM
import Foundation
import Mimi
@testable import SpeechEvaluation
import SpeechMetrics
import Testing
import TestSupport
import Tokenizer
import Torch
import WavLM

/// A recognizer with canned answers, so WER/CER can be checked against recomputation (the models are random).
final class ScriptedRecognizer: SpeechRecognizer {
    let answers: [String]
    private(set) var calls: [(clips: Int, language: String?)] = []
    init(_ answers: [String]) { self.answers = answers }
    func transcribe(_ clips: [[Float]], sampleRate: Int, language: String?) throws -> [String] {
        calls.append((clips.count, language))
        return Array(answers.prefix(clips.count))
    }
    var parameterBytes: Int { 1234 }
}

/// `SpeechEvaluator` on the tiny demo CSM with the tiny WavLM fixture: sentences from --gen_from-style folders,
/// generated, transcribed, embedded, and the report's numbers equal to what its own fields recompute to.
@Suite(.serialized) struct SpeechEvaluatorTests {
    static let model = fixturesFolder.appendingPathComponent("demo-model")
    static let wavlm = fixturesFolder.appendingPathComponent("wavlm/group")

    /// Two --gen_from folders: tones as the context, each ending on a line of speaker [1] to speak.
    static func genFromFolders() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("speech-eval-\(UUID())")
        for (n, text) in ["Good morning, everyone!", "The cat sat on the mat."].enumerated() {
            let segments = root.appendingPathComponent("conv\(n)/segments")
            try FileManager.default.createDirectory(at: segments, withIntermediateDirectories: true)
            try "[1]: A first line.\n[2]: An answer.\n[1]: \(text)\n"
                .write(to: segments.appendingPathComponent("script.txt"), atomically: true, encoding: .utf8)
            for (i, speaker) in [1, 2].enumerated() {
                let samples = (0..<24_000).map { Float(0.3 * sin(Double($0) * Double(220 + 60 * i + 30 * n) * 2 * .pi / 24_000)) }
                try WAVWriter.write(samples, sampleRate: 24_000, channels: 1, encoding: .pcm16,
                                    to: segments.appendingPathComponent(String(format: "segment_%04d_speaker%d.wav", i + 1, speaker)))
            }
        }
        return root
    }

    @Test func reportEqualsRecomputationFromItsTranscripts() throws {
        let root = try Self.genFromFolders()
        defer { try? FileManager.default.removeItem(at: root) }
        let csm = try CSMForConditionalGeneration.load(folder: Self.model, dtype: .f32, device: .cpu)
        let codec = try MimiModel.load(folder: Self.model)
        let layout = try TurnLayout(tokenizer: Tokenizer(folder: Self.model))
        let sentences = try EvaluationSentence.from(genFrom: root, layout: layout, codec: codec, language: "en")
        #expect(sentences.map(\.id) == ["conv0", "conv1"])
        #expect(sentences.map(\.text) == ["Good morning, everyone!", "The cat sat on the mat."])
        #expect(sentences.allSatisfy { $0.references.count == 1 }, "the context line of speaker [1]")

        let recognizer = ScriptedRecognizer(["good morning every one", "the cat sat on the mat"])
        let judges = SpeechJudges(recognizer: recognizer, asrModel: "scripted", speakerEncoder: try SpeakerEncoder(folder: Self.wavlm),
                                  speakerModel: Self.wavlm.path)
        let evaluator = SpeechEvaluator(codec: codec, judges: judges, sentences: sentences, seed: 7, maxAudioSeconds: 1)
        let wavs = root.appendingPathComponent("out/wavs")
        let report = try evaluator.run(model: csm, wavFolder: wavs)

        #expect(report.sentences.count == 2)
        #expect(recognizer.calls.allSatisfy { $0.language == "en" })
        for (r, s) in zip(report.sentences, sentences) {
            let transcript = try #require(r.transcript)
            let words = EditCount.words(reference: s.text, hypothesis: transcript)
            #expect(r.wordEdits == words.edits && r.referenceWords == words.referenceLength && r.wer == words.rate)
            let chars = EditCount.characters(reference: s.text, hypothesis: transcript)
            #expect(r.charEdits == chars.edits && r.referenceChars == chars.referenceLength && r.cer == chars.rate)
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("out/" + (r.wav ?? "")).path))
            if r.seconds > 0.05 { #expect(r.similarity.map { (-1...1).contains($0) } == true) }
        }
        // "good morning every one" vs "good morning everyone": 1 substitution + 1 insertion of 3 words; 0 of 6.
        #expect(report.sentences.map(\.wordEdits) == [2, 0])
        #expect(report.wer == 2.0 / 9.0)
        let sims = report.sentences.compactMap(\.similarity)
        #expect(report.similarity == (sims.isEmpty ? nil : sims.reduce(0, +) / Double(sims.count)))

        // Same seeds, same audio: a second run (as at every --eval_speech_every step) gives the same report.
        let again = try evaluator.run(model: csm)
        #expect(again.sentences.map(\.similarity) == report.sentences.map(\.similarity))
        #expect(again.sentences.map(\.seconds) == report.sentences.map(\.seconds))
    }

    @Test func missingJudgesAreClearErrors() throws {
        #expect { try SpeechJudges.load(asrModel: nil, speakerModel: nil, device: .cpu) } throws: {
            "\($0)".contains("--asr_model") && "\($0)".contains("--speaker_model")
        }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-model-\(UUID())").path
        #expect { try SpeechJudges.load(asrModel: nil, speakerModel: missing, device: .cpu) } throws: {
            "\($0)".contains("--speaker_model \(missing)")
        }
        // A WavLM folder is not an ASR model, a CSM folder not a speaker model.
        #expect { try SpeechJudges.load(asrModel: Self.wavlm.path, speakerModel: nil, device: .cpu) } throws: {
            "\($0)".contains("'wavlm' model") && "\($0)".contains("Whisper")
        }
        #expect { try SpeechJudges.load(asrModel: nil, speakerModel: Self.model.path, device: .cpu) } throws: {
            "\($0)".contains("WavLMForXVector")
        }
    }

    /// `csm eval --speech --gen_from … --mask_speaker_ids`: every prompt turn without `[K]`, as such a model was trained.
    @Test func aMaskedLayoutLeavesTheSpeakerPrefixOutOfGenFromPrompts() throws {
        let root = try Self.genFromFolders()
        defer { try? FileManager.default.removeItem(at: root) }
        let codec = try MimiModel.load(folder: Self.model)
        let tokenizer = try Tokenizer(folder: Self.model)
        for masked in [true, false] {
            func ids(_ speaker: Int, _ text: String) -> [Int] { tokenizer.encode((masked ? "" : "[\(speaker)]") + text) }
            let layout = try TurnLayout(tokenizer: tokenizer, maskSpeakerIds: masked)
            let sentence = try EvaluationSentence.from(genFrom: root, layout: layout, codec: codec, language: "en")[0]
            #expect(sentence.prompt.textIds == ids(0, "Good morning, everyone!"), "masked \(masked)")
            #expect(sentence.prompt.context.map(\.textIds) == [ids(0, "A first line."), ids(1, "An answer.")], "masked \(masked)")
            #expect(sentence.text == "Good morning, everyone!")
        }
    }

    @Test func spokenTextDropsTheSpeakerPrefix() {
        #expect(EvaluationSentence.spokenText("[0]Hello there.") == "Hello there.")
        #expect(EvaluationSentence.spokenText("[12] Hi") == "Hi")
        #expect(EvaluationSentence.spokenText("[x]Hi") == "[x]Hi")
    }
}
