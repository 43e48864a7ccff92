import Foundation
import Testing
import TestSupport
import Torch
@testable import WavLM

/// x-vectors and speaker similarities against transformers' `WavLMForXVector` on the tiny fixture models.
@Suite struct WavLMParityTests {
    @Test(arguments: WavLMFixture.models)
    func embeddingsMatchTransformers(model: String) throws {
        let encoder = try WavLMFixture.encoder(model)
        for clip in WavLMFixture.clips {
            let ours = try encoder.embed([WavLMFixture.audio(clip)], sampleRate: WavLMFixture.sampleRate(clip))[0]
            let theirs = try WavLMFixture.expected.tensor("\(model).embedding.\(clip)").toArray(Float.self)
            #expect(ours.count == theirs.count)
            #expect(parity("WavLMParityTests.\(model).\(clip).embedding", WavLMFixture.relativeError(ours, theirs),
                           Tolerance.embedding))
        }
    }

    @Test(arguments: WavLMFixture.models)
    func batchedClipsEqualClipsAlone(model: String) throws {
        let encoder = try WavLMFixture.encoder(model)
        let clips = try WavLMFixture.clips.filter { WavLMFixture.sampleRate($0) == 16_000 }.map(WavLMFixture.audio)
        let alone = try clips.map { try encoder.embed([$0], sampleRate: 16_000)[0] }
        let batched = try encoder.embed(clips, sampleRate: 16_000)
        #expect(encoder.batches(lengths: clips.map(\.count)).count == 1, "one padded batch")
        for (i, (b, a)) in zip(batched, alone).enumerated() {
            #expect(parity("WavLMParityTests.\(model).batched_vs_alone.\(i)", WavLMFixture.relativeError(b, a),
                           Tolerance.batchedVsAlone))
        }
    }

    @Test(arguments: WavLMFixture.models)
    func cosineSimilaritiesMatchTransformers(model: String) throws {
        let encoder = try WavLMFixture.encoder(model)
        var vectors: [[Float]] = []
        for clip in WavLMFixture.clips {
            vectors += try encoder.embed([WavLMFixture.audio(clip)], sampleRate: WavLMFixture.sampleRate(clip))
        }
        let theirs = try WavLMFixture.expected.tensor("\(model).cosine").toArray(Float.self)
        var worst = 0.0
        for i in vectors.indices {
            for j in vectors.indices {
                let ours = SpeakerEncoder.similarity(vectors[i], reference: [vectors[j]])
                worst = max(worst, abs(ours - Double(theirs[i * vectors.count + j])))
            }
        }
        #expect(parity("WavLMParityTests.\(model).cosine", worst, Tolerance.cosine))
        let reference = try WavLMFixture.expected.tensor("\(model).similarity_c_to_ab").item()
        let ours = SpeakerEncoder.similarity(vectors[2], reference: [vectors[0], vectors[1]])
        #expect(parity("WavLMParityTests.\(model).similarity_c_to_ab", abs(ours - reference), Tolerance.cosine))
    }

    @Test(arguments: WavLMFixture.models)
    func hiddenStatesMatchTransformers(model: String) throws {
        let encoder = try WavLMFixture.encoder(model)
        let input = try encoder.inputValues(WavLMFixture.audio("a"), sampleRate: 16_000)
        let output = try encoder.model(Tensor(input, shape: [1, input.count]), lengths: [input.count])
        let theirs = try WavLMFixture.expected.tensor("\(model).hidden_states.a")
        let ours = try Tensor.stack(output.hiddenStates, dim: 0).select(1, 0)
        #expect(ours.shape == theirs.shape)
        let error = try (ours - theirs).abs().max().item() / theirs.abs().max().item()
        #expect(parity("WavLMParityTests.\(model).hidden_states", error, Tolerance.hiddenStates))
    }

    @Test func inputValuesMatchFeatureExtractor() throws {
        for (model, clip) in [("group", "b"), ("layer", "d24k")] {
            let encoder = try WavLMFixture.encoder(model)
            let ours = try encoder.inputValues(WavLMFixture.audio(clip), sampleRate: WavLMFixture.sampleRate(clip))
            let theirs = try WavLMFixture.expected.tensor("\(model).input_values.\(clip)").toArray(Float.self)
            #expect(ours.count == theirs.count)
            #expect(parity("WavLMParityTests.\(model).\(clip).input_values", WavLMFixture.relativeError(ours, theirs),
                           Tolerance.inputValues))
        }
    }
}

/// Loading errors name the file and what to pass instead.
@Suite struct WavLMLoadingTests {
    @Test func missingFolderNamesTheFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wavlm-missing-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect { try SpeakerEncoder(folder: folder) } throws: { error in
            "\(error)".contains("config.json") && "\(error)".contains("wavlm-base-plus-sv")
        }
    }

    @Test func tooShortClipIsAnError() throws {
        let encoder = try WavLMFixture.encoder("group")
        #expect { try encoder.embed([[Float](repeating: 0.1, count: 100)], sampleRate: 16_000) } throws: { error in
            "\(error)".contains("needs at least \(encoder.config.minimumSamples)")
        }
    }

    @Test func parameterBytesCountEveryWeight() throws {
        let encoder = try WavLMFixture.encoder("group")
        let store = try WeightStore(folder: WavLMFixture.folder.appendingPathComponent("group"))
        // Everything but the training-only AM-softmax weight and masked_spec_embed, in f32.
        let used = store.keys.filter { !$0.hasPrefix("objective") && $0 != "wavlm.masked_spec_embed" }
        let bytes = used.reduce(0) { $0 + store.info($1)!.shape.reduce(1, *) * 4 }
        #expect(encoder.parameterBytes == bytes)
    }
}
