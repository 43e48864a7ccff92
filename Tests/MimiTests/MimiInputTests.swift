import Foundation
import Mimi
import Testing
import Torch

/// Bad input and configuration give clear errors instead of garbage or a crash.
@Suite struct MimiInputTests {
    @Test func emptyAudioIsRejected() throws {
        let model = MimiFixture.model
        #expect(throws: MimiError.badInput("segment 1 is empty (no samples)")) {
            try model.encode(segments: [[0.1, 0.2], []])
        }
        #expect(throws: MimiError.badInput("empty audio (no samples)")) {
            try model.encode(Tensor.zeros([1, 1, 0]))
        }
    }

    @Test func nonFiniteSamplesAreRejected() throws {
        let model = MimiFixture.model
        #expect(throws: MimiError.badInput("segment 0 contains NaN or infinite samples")) {
            try model.encode(segments: [[0.1, .nan, 0.2]])
        }
        #expect(throws: MimiError.badInput("audio contains NaN or infinite samples")) {
            try model.encode(Tensor([Float](arrayLiteral: 0, .infinity, 0), shape: [1, 1, 3]))
        }
    }

    @Test func wrongShapesAndCodesAreRejected() throws {
        let model = MimiFixture.model
        #expect(throws: MimiError.self) { try model.encode(Tensor.zeros([1, 2, 100])) }
        #expect(throws: MimiError.self) { try model.encode(Tensor.zeros([1, 1, 100]), lengths: [101]) }
        #expect(throws: MimiError.self) { try model.decode(Tensor([64, 0], shape: [1, 2, 1])) }
        #expect(throws: MimiError.self) { try model.decode(Tensor([Int](repeating: 0, count: 33), shape: [1, 33, 1])) }
    }

    @Test func configDecodesHFDefaultsAndLegacyFields() throws {
        let legacy = #"{"model_type": "mimi", "rope_theta": 500.0, "frame_rate": 12.5, "sliding_window": 10}"#
        let config = try JSONDecoder().decode(MimiConfig.self, from: Data(legacy.utf8))
        #expect(config.ropeParameters.ropeTheta == 500)
        #expect(config.slidingWindow == 10)
        #expect(config.frameSize == 1920 && config.frameRate == 12.5 && config.latentStride == 2)
        #expect(config.hiddenSize == 512 && config.numQuantizers == 32 && config.codebookSize == 2048)
        #expect(config.resolvedHeadDim == 64 && config.upsampleGroups == 512)
        let bad = #"{"codebook_size": 100}"#
        #expect(throws: MimiError.self) { try JSONDecoder().decode(MimiConfig.self, from: Data(bad.utf8)) }
    }

    @Test func loadsTheCodecInsideACSMCheckpoint() throws {
        let csm = MimiFixture.root.deletingLastPathComponent().appendingPathComponent("csm/tiny")
        let model = try MimiModel.load(folder: csm)
        #expect(model.numCodebooks == 4)  // the CSM config's num_codebooks
        let codes = try model.encode(Tensor.zeros([1, 1, 4000]))
        #expect(codes.shape == [1, 4, 3])
        #expect(try model.decode(codes).shape == [1, 1, 3 * 1920])
    }

    @Test func missingFolderNamesTheFile() {
        let folder = URL(fileURLWithPath: "/nonexistent/mimi")
        #expect(throws: MimiError.cannotLoad("/nonexistent/mimi/config.json is missing or unreadable: pass a CSM or Mimi model folder")) {
            try MimiModel.load(folder: folder)
        }
    }
}
