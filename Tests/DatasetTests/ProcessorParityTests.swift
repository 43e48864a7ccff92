import CSM
import Foundation
import Testing
@testable import Dataset
import TestSupport

/// `csm preprocess` with the real tokenizer and Mimi against the samples the Python reference pipeline
/// (transformers CsmProcessor chat template with output_labels=True, MimiModel per clip) builds from the same raw
/// files: tools/fixtures/dataset.py → Tests/Fixtures/dataset/.
@Suite struct ProcessorParityTests {
    struct Expected: Decodable {
        struct Arguments: Decodable {
            let num_context_turns: Int, max_audio_seconds: Double, min_audio_seconds: Double, text_max_length: Int
        }
        struct ExpectedSample: Decodable {
            let conversation: String, input_ids: [Int], labels: [Int], codes: [[[Int]]]
        }
        let arguments: Arguments
        let num_codebooks: Int, audio_token_id: Int, audio_eos_token_id: Int
        let skips: [[String]]
        let samples: [ExpectedSample]
    }

    @Test func samplesMatchTheHFProcessor() throws {
        let dir = fixturesFolder.appendingPathComponent("dataset")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
        let a = expected.arguments
        let options = PreprocessOptions(inputPath: dir.appendingPathComponent("raw").path, modelId: "tiny",
                                        numContextTurns: a.num_context_turns, maxAudioSeconds: a.max_audio_seconds,
                                        minAudioSeconds: a.min_audio_seconds, textMaxLength: a.text_max_length)
        let model = fixturesFolder.appendingPathComponent("csm/tiny")
        let preprocessor = Preprocessor(
            options: options, fingerprint: Fingerprint(tokenizer: "", codec: ""),
            tokenizer: try CSMTurnText(folder: fixturesFolder.appendingPathComponent("tokenizer")),
            codec: try MimiSegmentEncoder(folder: model))
        preprocessor.progressStyle = .silent
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("csm-parity-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try preprocessor.run(output: out, overwrite: true)

        #expect(report.skips.map { [$0.conversation, $0.segment ?? "", $0.code] }.sorted { $0.lexicographicallyPrecedes($1) }
            == expected.skips.sorted { $0.lexicographicallyPrecedes($1) })

        let data = try PreprocessedDataset(out)
        #expect(data.count == expected.samples.count)
        let ids = CSMSpecialIds(audioTokenId: expected.audio_token_id, audioEosTokenId: expected.audio_eos_token_id,
                                codebookEosTokenId: 0, numCodebooks: expected.num_codebooks)
        for (i, want) in expected.samples.enumerated() where i < data.count {
            let sample = try data.sample(i)
            let conversation = data.manifest.conversations[data.manifest.samples[i].conversation].id
            #expect(conversation == want.conversation)
            #expect(sample.turns.map(\.codes) == want.codes, "sample \(i): codes")
            let layout = try sample.layout(ids)
            #expect(layout.inputIds == want.input_ids, "sample \(i): input ids")
            #expect(layout.labels == want.labels, "sample \(i): labels")
        }
    }
}
