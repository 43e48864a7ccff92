import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

@Suite struct LoRATests {
    func logits(_ model: CSMForConditionalGeneration) throws -> Tensor {
        try withNoGrad { try model.forward(CSMBatch(samples: [Fixture.samples[0]], config: model.config)).logits }
    }

    @Test func freshAdaptersFollowPEFTInitAndTargetOnlyDecoderLayers() throws {
        let model = try Fixture.model()
        let before = try logits(model)
        Runtime.manualSeed(0)
        let paths = try model.applyLoRA(LoRAConfig(rank: 4, alpha: 8))
        let layers = model.config.backbone.numHiddenLayers + model.config.depthDecoderConfig.stack.numHiddenLayers
        #expect(paths.count == 7 * layers)
        #expect(!paths.contains { $0.hasPrefix("lm_head") || $0.contains("inputs_embeds_projector") })
        for (_, lora) in model.loraAdapters {
            #expect(try lora.b.abs().max().item() == 0)
            let bound = 1 / Double(lora.a.size(1)).squareRoot()
            #expect(try lora.a.abs().max().item() <= bound)
            #expect(try lora.a.abs().max().item() > bound / 2)
            #expect(lora.scale == 2)
        }
        // B = 0: the model is unchanged.
        #expect(try relativeError(logits(model), before) == 0)
        #expect(model.loraParameters.count == 2 * paths.count)
        #expect(model.trainableParametersSummary().hasPrefix("trainable params: "))
    }

    /// Dropout acts on the adapter's input only while training, as PEFT's `lora_dropout`.
    @Test func dropoutOnlyWhileTraining() throws {
        let model = try Fixture.model()
        try model.applyLoRA(LoRAConfig(rank: 4, alpha: 8, dropout: 0.5))
        for (_, l) in model.loraAdapters { try withNoGrad { try l.b.normal_(mean: 0, std: 0.5) } }
        let eval1 = try logits(model), eval2 = try logits(model)
        #expect(try relativeError(eval1, eval2) == 0)
        model.setTraining(true)
        #expect(try relativeError(logits(model), eval1) > 1e-3)
        model.setTraining(false)
        #expect(try relativeError(logits(model), eval1) == 0)
    }

    @Test func regexMatchesPEFTFixture() throws {
        let url = Fixture.root.appendingPathComponent("peft_adapter/adapter_config.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        #expect(json["target_modules"] as? String == LoRAConfig().targetRegex)
        let regex = try NSRegularExpression(pattern: LoRAConfig().targetRegex)
        #expect(fullMatch(regex, "backbone_model.layers.12.self_attn.q_proj"))
        #expect(fullMatch(regex, "depth_decoder.model.layers.0.mlp.down_proj"))
        #expect(!fullMatch(regex, "codec_model.encoder_transformer.layers.0.self_attn.q_proj"))
        #expect(!fullMatch(regex, "backbone_model.layers.0.self_attn.q_proj.extra"))
    }

    @Test func saveLoadRoundTripAndMerge() throws {
        let model = try Fixture.model()
        let config = try PEFTAdapter.load(Fixture.root.appendingPathComponent("peft_adapter"), into: model)
        #expect(config.rank == 4 && config.alpha == 8 && config.targetNames == LoRAConfig.defaultTargets)
        let adapted = try logits(model)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("csm-lora-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try PEFTAdapter.save(model, config: config, to: dir)
        let peftKeys = Set(try Safetensors.read(Fixture.root.appendingPathComponent("peft_adapter/adapter_model.safetensors")).keys)
        #expect(Set(try Safetensors.read(dir.appendingPathComponent("adapter_model.safetensors")).keys) == peftKeys)

        let reloaded = try Fixture.model()
        try PEFTAdapter.load(dir, into: reloaded)
        #expect(try relativeError(logits(reloaded), adapted) == 0)

        try reloaded.mergeLoRA()
        #expect(reloaded.loraAdapters.isEmpty)
        #expect(parity("LoRATests.merged.logits", try relativeError(logits(reloaded), adapted), Tolerance.f32Reordered))
    }

    @Test func rejectsBadAdapters() throws {
        let model = try Fixture.model()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("csm-bad-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #expect(throws: CSMError.self) { try PEFTAdapter.load(dir, into: model) }
        let cfg = try JSONSerialization.data(withJSONObject: ["peft_type": "LORA", "r": 4, "lora_alpha": 8])
        try cfg.write(to: dir.appendingPathComponent("adapter_config.json"))
        try Safetensors.write(["base_model.model.codec_model.x.lora_A.weight": try Tensor.zeros([4, 16])],
                              to: dir.appendingPathComponent("adapter_model.safetensors"))
        #expect(throws: CSMError.self) { try PEFTAdapter.load(dir, into: model) }
    }
}

/// Writes an adapter trained-looking adapter (random B) and the logits it gives on fixture sample 0, for
/// `tools/checks/peft_adapter.py --base Tests/Fixtures/csm/tiny --adapter DIR` to load with PEFT and compare.
/// Set CSM_EXPORT_ADAPTER=DIR to keep them.
@Suite struct AdapterExportTests {
    @Test func exportForPEFT() throws {
        let keep = ProcessInfo.processInfo.environment["CSM_EXPORT_ADAPTER"]
        let dir = keep.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("csm-export-\(UUID())")
        defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }
        let model = try Fixture.model()
        Runtime.manualSeed(3)
        let config = LoRAConfig(rank: 2, alpha: 5, targetNames: ["q_proj", "v_proj", "down_proj"])
        try model.applyLoRA(config)
        for (_, lora) in model.loraAdapters { try withNoGrad { try lora.b.normal_(mean: 0, std: 0.5) } }
        try PEFTAdapter.save(model, config: config, to: dir)
        let logits = try withNoGrad { try model.forward(CSMBatch(samples: [Fixture.samples[0]], config: model.config)).logits }
        try Safetensors.write(["logits": logits.squeeze(0).contiguous()], to: dir.appendingPathComponent("logits.safetensors"))
        let back = try Fixture.model()
        #expect(try PEFTAdapter.load(dir, into: back) == config)
        let again = try withNoGrad { try back.forward(CSMBatch(samples: [Fixture.samples[0]], config: back.config)).logits }
        #expect(try relativeError(again, logits) == 0)
    }
}
