import Audio
import Foundation
import Testing
import Torch
import TestSupport
@testable import Whisper

/// Whisper against transformers on the tiny random checkpoint of tools/fixtures/whisper.py: features, encoder
/// states, decoder logits, greedy ids and decoded text, on four clips of different pitch and length.
@Suite(.serialized) struct WhisperParityTests {
    @Test func signalsMatchPythonGenerator() {
        for (c, clip) in zip(WhisperFixture.cases, WhisperFixture.clips) {
            #expect(Array(clip.prefix(4)) == c.signalHead, "\(c.name)")
            let sum = clip.reduce(0.0) { $0 + Double($1) }
            #expect(parity("WhisperParityTests.\(c.name).signal_sum", abs(sum - c.signalSum) / max(1, abs(c.signalSum)),
                           Tolerance.signalSum))
        }
    }

    @Test func featuresMatchWhisperFeatureExtractor() throws {
        let t = WhisperFixture.transcriber
        let features = try t.features(WhisperFixture.clips)
        #expect(features.shape == [4, 80, 3000])
        let stride = WhisperFixture.contents.featureStride
        for (i, c) in WhisperFixture.cases.enumerated() {
            let row = try features.select(0, i)
            let ours = try row.slice(1, 0, c.storedFrames, step: stride).contiguous().toArray(Float.self)
            for (key, tail, path) in [("features", c.tailValue, "torch"), ("features_numpy", c.tailValueNumpy, "numpy")] {
                let theirs = try WhisperFixture.expected.tensor("\(c.name).\(key)").toArray(Float.self)
                #expect(parity("WhisperParityTests.\(c.name).features_\(path)", WhisperFixture.maxAbsError(ours, theirs),
                               Tolerance.features))
                // After the audio every frame is the floor value (max − 8 + 4) / 4.
                let rest = try row.slice(1, c.storedFrames, 3000)
                let off = try (rest - tail).abs().max().item()
                #expect(parity("WhisperParityTests.\(c.name).features_tail_\(path)", off, Tolerance.features))
            }
        }
    }

    @Test func encoderMatchesTransformers() throws {
        let t = WhisperFixture.transcriber
        let states = try t.model.encode(t.features(WhisperFixture.clips))
        #expect(states.shape == [4, 1500, t.model.config.dModel])
        for (i, c) in WhisperFixture.cases.enumerated() {
            let ours = try states.select(0, i).slice(0, 0, 1500, step: WhisperFixture.contents.encoderStride)
                .contiguous().toArray(Float.self)
            let theirs = try WhisperFixture.expected.tensor("\(c.name).encoder").toArray(Float.self)
            #expect(parity("WhisperParityTests.\(c.name).encoder", WhisperFixture.relativeError(ours, theirs),
                           Tolerance.states))
        }
    }

    @Test func logitsMatchTransformers() throws {
        let t = WhisperFixture.transcriber
        let ids = try WhisperFixture.expected.tensor("en.decoder_input_ids").to(.i64)
        let logits = try t.model.logits(features: t.features(WhisperFixture.clips), decoderIds: ids)
        let theirs = try WhisperFixture.expected.tensor("en.logits")
        #expect(logits.shape == theirs.shape)
        let error = WhisperFixture.relativeError(try logits.toArray(Float.self), try theirs.toArray(Float.self))
        #expect(parity("WhisperParityTests.logits", error, Tolerance.states))
    }

    @Test(arguments: ["en", "de", "detect"])
    func greedyTranscriptionMatchesGenerate(language: String) throws {
        let run = WhisperFixture.contents.runs.first { ($0.language ?? "detect") == language }!
        // Exact ids are only meaningful when no step of the reference was a near-tie (see Tolerance.argmaxMargin).
        try #require(run.minArgmaxMargin > Tolerance.argmaxMargin, "reference margin \(run.minArgmaxMargin) too small")
        let t = WhisperFixture.transcriber
        let lang = language == "detect" ? nil : language
        let tokens = try t.tokens(WhisperFixture.clips, sampleRate: 16_000, language: lang)
        #expect(tokens == run.tokens)
        let texts = try t.transcribe(WhisperFixture.clips, sampleRate: 16_000, language: lang)
        #expect(texts == run.texts)
        // Rows finish at different steps (the fixture relabels eos so they do) and the batch shrinks as they do.
        #expect(Set(run.tokens.map(\.count)).count > 1)
    }

    @Test func greedyIdsDoNotDependOnBatching() throws {
        let t = WhisperFixture.transcriber
        let run = WhisperFixture.contents.runs.first { $0.language == "en" }!
        for (i, clip) in WhisperFixture.clips.enumerated() {
            #expect(try t.tokens([clip], sampleRate: 16_000, language: "en") == [run.tokens[i]])
        }
    }

    /// Clips at another rate go through our soxr resampler to the checkpoint's 16 kHz first.
    @Test func otherSampleRatesAreResampledTo16kHz() throws {
        let t = WhisperFixture.transcriber
        let clip48k = try Resampler.resample(WhisperFixture.clips[0], from: 16_000, to: 48_000)
        let back = try Resampler.resample(clip48k, from: 48_000, to: 16_000)
        #expect(try t.tokens([clip48k], sampleRate: 48_000, language: "en") == t.tokens([back], sampleRate: 16_000, language: "en"))
    }

    @Test func languageDetectionMatchesTransformers() throws {
        let t = WhisperFixture.transcriber
        let run = WhisperFixture.contents.runs.first { $0.language == nil }!
        let detected = try t.detectLanguages(features: t.features(WhisperFixture.clips))
        #expect(detected == run.detectedLanguageIds)
    }

    @Test func decodingMatchesWhisperTokenizer() throws {
        let decoder = WhisperFixture.transcriber.text
        for d in WhisperFixture.contents.decodes {
            #expect(decoder.decode(d.ids) == d.text, "\(d.ids)")
        }
    }
}

/// Inputs and folders that cannot work give errors that say what to fix.
struct WhisperErrorTests {
    @Test func unknownLanguageNamesTheKnownOnes() throws {
        let t = WhisperFixture.transcriber
        #expect {
            _ = try t.transcribe([[0.1, 0.2]], sampleRate: 16_000, language: "xx")
        } throws: { error in
            "\(error)".contains("'xx'") && "\(error)".contains("lang_to_id") && "\(error)".contains("de")
        }
    }

    @Test func missingFolderNamesTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("no-whisper-\(UUID())")
        #expect {
            _ = try WhisperTranscriber(folder: folder)
        } throws: { error in
            "\(error)".contains("config.json") && "\(error)".contains(folder.path)
        }
    }

    @Test func noClipsGiveNoTranscripts() throws {
        #expect(try WhisperFixture.transcriber.transcribe([], sampleRate: 16_000, language: "en") == [])
        #expect(throws: WhisperError.self) { _ = try WhisperFixture.transcriber.transcribe([[0]], sampleRate: 0, language: "en") }
    }
}
