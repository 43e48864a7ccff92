import Foundation
import SpeechMetrics
import Testing
import TestSupport

/// `csm eval --speech` and `csm train --eval_speech_every` on the tiny demo CSM with the tiny random WavLM
/// x-vector fixture (random models: the numbers mean nothing, but they must be computed, written, and agree with
/// what the written fields recompute to).
@Suite(.serialized) struct SpeechEvalCLITests {
    static let wavlm = fixturesFolder.appendingPathComponent("wavlm/group").path
    static let whisper = fixturesFolder.appendingPathComponent("whisper/model").path

    func object(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    @Test func evalSpeechWritesPerSentenceAndMeanScoresWithTheWavs() throws {
        let trained = try TrainedAdapter.shared()
        let out = try CLI.scratch("speech-eval")
        defer { try? FileManager.default.removeItem(at: out) }
        let json = out.appendingPathComponent("result/speech.json")
        try CLI.succeed(["eval", "--speech", "--model_id", CLI.model, "--adapter", trained.adapter.path,
                         "--preprocessed_path", trained.preprocessed.path, "--speaker_model", Self.wavlm,
                         "--sentences", "2", "--seed", "3", "--max_audio_seconds", "1", "--output", json.path] + CLI.cpu)
        let report = try object(json)
        let sentences = try #require(report["sentences"] as? [[String: Any]])
        #expect(sentences.count == 2)
        #expect(report["speaker_model"] as? String == Self.wavlm)
        #expect(report["wer"] == nil && report["asr_model"] == nil, "no --asr_model: no WER")
        #expect((report["normalizer"] as? String)?.contains("lower-case") == true)
        var similarities: [Double] = []
        for s in sentences {
            #expect(s["language"] as? String == "en")
            #expect((s["text"] as? String)?.hasPrefix("Line number") == true, "the decoded text without [K]")
            let wav = try #require(s["wav"] as? String)
            #expect(FileManager.default.fileExists(atPath: json.deletingLastPathComponent().appendingPathComponent(wav).path))
            if let sim = s["similarity"] as? Double { similarities.append(sim) }
        }
        #expect(!similarities.isEmpty)
        let mean = try #require(report["similarity"] as? Double)
        #expect(abs(mean - similarities.reduce(0, +) / Double(similarities.count)) < 1e-12)

        // Deterministic: the same seed picks the same sentences and speaks them the same way.
        let again = out.appendingPathComponent("again.json")
        try CLI.succeed(["eval", "--speech", "--model_id", CLI.model, "--adapter", trained.adapter.path,
                         "--preprocessed_path", trained.preprocessed.path, "--speaker_model", Self.wavlm,
                         "--sentences", "2", "--seed", "3", "--max_audio_seconds", "1", "--output", again.path] + CLI.cpu)
        #expect(try object(again)["similarity"] as? Double == mean)
    }

    @Test func evalSpeechWithWhisperWritesTranscriptsAndTheirErrorRates() throws {
        let trained = try TrainedAdapter.shared()
        let out = try CLI.scratch("speech-eval-asr")
        defer { try? FileManager.default.removeItem(at: out) }
        let json = out.appendingPathComponent("speech.json")
        try CLI.succeed(["eval", "--speech", "--model_id", CLI.model, "--preprocessed_path", trained.preprocessed.path,
                         "--asr_model", Self.whisper, "--speaker_model", Self.wavlm, "--sentences", "3", "--seed", "1",
                         "--max_audio_seconds", "1", "--output", json.path] + CLI.cpu)
        let report = try object(json)
        #expect(report["asr_model"] as? String == Self.whisper)
        let sentences = try #require(report["sentences"] as? [[String: Any]])
        #expect(sentences.count == 3)
        var words: [EditCount] = [], chars: [EditCount] = []
        for s in sentences {
            // Random Whisper: the transcript is gibberish, but WER/CER must be what the written strings give.
            let text = try #require(s["text"] as? String), transcript = try #require(s["transcript"] as? String)
            let w = EditCount.words(reference: text, hypothesis: transcript)
            let c = EditCount.characters(reference: text, hypothesis: transcript)
            #expect(s["word_edits"] as? Int == w.edits && s["reference_words"] as? Int == w.referenceLength)
            #expect(s["char_edits"] as? Int == c.edits && s["reference_chars"] as? Int == c.referenceLength)
            // Rates through JSON text: equal up to the last bit of the decimal round trip.
            #expect(abs((s["wer"] as? Double ?? .nan) - w.rate) < 1e-12 && abs((s["cer"] as? Double ?? .nan) - c.rate) < 1e-12)
            words.append(w)
            chars.append(c)
        }
        #expect(abs((report["wer"] as? Double ?? .nan) - EditCount.rate(words)) < 1e-12)
        #expect(abs((report["cer"] as? Double ?? .nan) - EditCount.rate(chars)) < 1e-12)
        #expect(report["similarity"] is Double)
    }

    /// `csm eval --mask_speaker_ids` evaluates a model trained so on the turns it was trained on (no `[K]`): another
    /// loss than with the prefix, and `--speech` speaks and scores the same sentences.
    @Test func maskSpeakerIdsEvaluatesWithoutTheSpeakerPrefix() throws {
        let trained = try TrainedAdapter.shared()
        let out = try CLI.scratch("speech-eval-masked")
        defer { try? FileManager.default.removeItem(at: out) }
        let base = ["eval", "--model_id", CLI.model, "--adapter", trained.adapter.path,
                    "--preprocessed_path", trained.preprocessed.path] + CLI.cpu
        func loss(_ r: CLI.Result) throws -> Double {
            try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])["loss"] as! Double
        }
        let plain = try loss(CLI.succeed(base)), masked = try loss(CLI.succeed(base + ["--mask_speaker_ids"]))
        #expect(plain.isFinite && masked.isFinite && plain != masked)

        let json = out.appendingPathComponent("speech.json")
        try CLI.succeed(base + ["--speech", "--mask_speaker_ids", "--speaker_model", Self.wavlm, "--sentences", "2",
                                "--max_audio_seconds", "1", "--output", json.path])
        let sentences = try #require(try object(json)["sentences"] as? [[String: Any]])
        #expect(sentences.count == 2)
        #expect(sentences.allSatisfy { ($0["text"] as? String)?.hasPrefix("Line number") == true })
    }

    @Test func evalSpeechNamesMissingOrWrongModels() throws {
        let trained = try TrainedAdapter.shared()
        let base = ["eval", "--speech", "--model_id", CLI.model, "--preprocessed_path", trained.preprocessed.path] + CLI.cpu
        try CLI.fail(base, mentioning: ["--asr_model", "--speaker_model"])
        try CLI.fail(base + ["--speaker_model", CLI.model], mentioning: ["--speaker_model", "WavLMForXVector"])
        try CLI.fail(base + ["--asr_model", Self.wavlm], mentioning: ["--asr_model", "'wavlm'", "Whisper"])
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-wavlm-\(UUID())").path
        try CLI.fail(base + ["--speaker_model", missing], mentioning: ["--speaker_model", missing])
    }

    @Test func trainingLogsSpeechMetricsEveryNSteps() throws {
        let trained = try TrainedAdapter.shared()
        let out = try CLI.scratch("speech-train")
        defer { try? FileManager.default.removeItem(at: out) }
        try CLI.succeed(["train", "--preprocessed_path", trained.preprocessed.path, "--output_dir", out.path,
                         "--model_id", CLI.model, "--max_steps", "4", "--warmup_steps", "0", "--lora_r", "4",
                         "--save_every", "2", "--gen_every", "0", "--eval_speech_every", "2",
                         "--eval_speech_sentences", "2", "--asr_model", Self.whisper, "--speaker_model", Self.wavlm]
                        + CLI.cpu)
        let rows = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let logged = rows.filter { $0["speech_similarity"] != nil }.compactMap { $0["step"] as? Int }
        #expect(logged == [2, 4])
        #expect(rows.filter { $0["speech_wer"] != nil && $0["speech_cer"] != nil }.count == 2)
        for step in [2, 4] {
            let json = out.appendingPathComponent(String(format: "speech_eval/step_%06d/speech_eval.json", step))
            let report = try object(json)
            let row = try #require(rows.first { $0["step"] as? Int == step })
            #expect(report["similarity"] as? Double == row["speech_similarity"] as? Double)
            #expect(report["wer"] as? Double == row["speech_wer"] as? Double)
            #expect((report["sentences"] as? [Any])?.count == 2)
        }
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Speech quality") && html.contains("★ best") && html.contains("checkpoint-2"))
        let events = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("runs").path)
        #expect(!events.isEmpty)
    }
}
