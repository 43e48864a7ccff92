import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

@Suite struct MergeTests {
    func logits(_ model: CSMForConditionalGeneration) throws -> (Tensor, Tensor) {
        let prompt = Fixture.expected.cases[1]
        let batch = try CSMBatch([prompt.prompt.layout(model.config.specialIds)], numCodebooks: model.config.numCodebooks)
        return try withNoGrad {
            let (hidden, logits) = try model.forward(batch)
            let k = model.config.numCodebooks
            let codes = try Tensor(prompt.frames.prefix(3).flatMap { $0.prefix(k - 1) }.map(Int64.init), shape: [3, k - 1])
            let depth = try model.depthLogits(backboneHidden: hidden.select(0, 0).narrow(0, 0, 3), codes: codes)
            return (logits, depth)
        }
    }

    /// merge → save the full folder → load again gives base + adapter's logits (backbone and depth decoder).
    @Test func mergedFolderReloadsWithAdapterLogits() throws {
        let model = try Fixture.model()
        try PEFTAdapter.load(Fixture.adapter, into: model)
        let (expected, expectedDepth) = try logits(model)
        let (base, _) = try logits(try Fixture.model())
        #expect(try (expected - base).abs().max().item() > 1e-2)  // the adapter matters

        try model.mergeLoRA()
        #expect(model.loraAdapters.isEmpty)
        let out = try Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        try FullModel.save(model, baseFolder: Fixture.tiny, to: out)
        let reloaded = try CSMForConditionalGeneration.load(folder: out)
        #expect(reloaded.dtype == .f32)
        let (merged, mergedDepth) = try logits(reloaded)
        #expect(parity("MergeTests.logits", try (merged - expected).abs().max().item(), Tolerance.mergedLogits))
        #expect(parity("MergeTests.depth_logits", try (mergedDepth - expectedDepth).abs().max().item(), Tolerance.mergedLogits))
        for name in ["config.json", "generation_config.json", "model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path))
        }
        let store = try WeightStore(folder: out)
        #expect(store.keys.contains { $0.hasPrefix("codec_model.") })
        #expect(!store.keys.contains { $0.contains("lora_") })
    }
}

extension MergeTests {
    /// The merged folder speaks exactly as base + adapter (top-k 1).
    @Test func mergedModelGeneratesAdapterCodes() throws {
        let adapted = try Fixture.model()
        try PEFTAdapter.load(Fixture.adapter, into: adapted)
        let options = Generator.Options(maxFrames: 10, settings: GenerationSettings(backbone: .greedy, depthDecoder: .greedy))
        let prompt = Fixture.expected.cases[1].prompt
        let expected = try Generator(model: adapted).generate(prompt, options: options).frames
        // Codes compared exactly across two different float paths: robust while every argmax has a clear margin.
        #expect(parityMargin("MergeTests.adapter_argmax_margin", try Fixture.argmaxMargin(adapted, prompt, frames: expected),
                             Tolerance.argmaxMargin))
        try adapted.mergeLoRA()
        let out = try Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        try FullModel.save(adapted, baseFolder: Fixture.tiny, to: out)
        let merged = try Generator(model: CSMForConditionalGeneration.load(folder: out)).generate(prompt, options: options)
        #expect(merged.frames == expected)
        #expect(expected != Array(Fixture.expected.cases[1].frames.prefix(10)))  // the adapter changes the speech
    }
}
