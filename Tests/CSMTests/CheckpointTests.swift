import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

@Suite struct CheckpointTests {
    func tempFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("csm-ckpt-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixture.tiny.appendingPathComponent("config.json"),
                                         to: dir.appendingPathComponent("config.json"))
        return dir
    }

    func logits(_ model: CSMForConditionalGeneration) throws -> Tensor {
        try withNoGrad { try model.forward(CSMBatch(samples: [Fixture.samples[1]], config: model.config)).logits }
    }

    /// The checkpoint's tensors (codec included) split over two shards with an index, as save_pretrained does.
    @Test func shardedCheckpoint() throws {
        let dir = try tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = try Safetensors.read(Fixture.tiny.appendingPathComponent("model.safetensors"))
        let keys = all.keys.sorted()
        var map = [String: String]()
        for (i, part) in [keys.prefix(keys.count / 2), keys.suffix(from: keys.count / 2)].enumerated() {
            let name = "model-0000\(i + 1)-of-00002.safetensors"
            try Safetensors.write(Dictionary(uniqueKeysWithValues: part.map { ($0, all[$0]!) }),
                                  to: dir.appendingPathComponent(name))
            for k in part { map[k] = name }
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": [String: Any](), "weight_map": map])
        try index.write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        let sharded = try CSMForConditionalGeneration.load(folder: dir)
        #expect(try relativeError(logits(sharded), logits(Fixture.model())) == 0)
    }

    /// bf16/f16 checkpoints load, convert on request, and give the f32 model's logits from the rounded weights.
    @Test(arguments: [DType.bf16, .f16]) func halfPrecisionCheckpoint(_ dtype: DType) throws {
        let dir = try tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = try Safetensors.read(Fixture.tiny.appendingPathComponent("model.safetensors"))
        try Safetensors.write(try all.mapValues { try $0.to(dtype) }, to: dir.appendingPathComponent("model.safetensors"))
        let native = try CSMForConditionalGeneration.load(folder: dir)
        #expect(native.dtype == dtype)
        let upcast = try CSMForConditionalGeneration.load(folder: dir, dtype: .f32)
        #expect(upcast.dtype == .f32)
        let reference = try logits(Fixture.model())
        #expect(parity("CheckpointTests.\(dtype).upcast_logits", try relativeError(logits(upcast), reference),
                       Tolerance.halfCheckpointUpcast))
        #expect(parity("CheckpointTests.\(dtype).native_logits", try relativeError(logits(native).to(.f32), reference),
                       Tolerance.halfCheckpointNative))
    }

    /// Tied codebook embeddings: stored once under either key, one tensor in the model; untied: two.
    @Test func tiedEmbeddings() throws {
        let model = try Fixture.model()
        #expect(model.depthDecoder.model.embedTokens === model.backboneModel.embedTokens.embedAudioTokens)
        #expect(model.stateDict().keys.contains(CSMForConditionalGeneration.depthEmbedKey + ".weight"))
        #expect(!model.stateDict().keys.contains(CSMForConditionalGeneration.backboneAudioKey + ".weight"))

        let dir = try tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var all = try Safetensors.read(Fixture.tiny.appendingPathComponent("model.safetensors"))
        let table = all.removeValue(forKey: CSMForConditionalGeneration.depthEmbedKey + ".weight")!
        all[CSMForConditionalGeneration.backboneAudioKey + ".weight"] = table
        try Safetensors.write(all, to: dir.appendingPathComponent("model.safetensors"))
        #expect(try relativeError(logits(CSMForConditionalGeneration.load(folder: dir)), logits(model)) == 0)

        // Untied config: both tables are needed.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        json["tie_codebooks_embeddings"] = false
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        #expect(throws: WeightError.self) { try CSMForConditionalGeneration.load(folder: dir) }
        all[CSMForConditionalGeneration.depthEmbedKey + ".weight"] = table
        try Safetensors.write(all, to: dir.appendingPathComponent("model.safetensors"))
        let untied = try CSMForConditionalGeneration.load(folder: dir)
        #expect(untied.depthDecoder.model.embedTokens !== untied.backboneModel.embedTokens.embedAudioTokens)
        #expect(untied.namedParameters.count == model.namedParameters.count + 1)
    }

    @Test func missingWeightsNameTheKey() throws {
        let dir = try tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var all = try Safetensors.read(Fixture.tiny.appendingPathComponent("model.safetensors"))
        all.removeValue(forKey: "lm_head.weight")
        try Safetensors.write(all, to: dir.appendingPathComponent("model.safetensors"))
        #expect { try CSMForConditionalGeneration.load(folder: dir) } throws: { "\($0)".contains("lm_head.weight") }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors"))
        #expect(throws: (any Error).self) { try CSMForConditionalGeneration.load(folder: dir) }
    }
}

@Suite struct ConfigTests {
    func decode(_ edit: (inout [String: Any]) -> Void) throws -> CSMConfig {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixture.tiny.appendingPathComponent("config.json"))) as! [String: Any]
        edit(&json)
        return try JSONDecoder().decode(CSMConfig.self, from: JSONSerialization.data(withJSONObject: json))
    }

    @Test func readsTransformersConfig() throws {
        let c = try CSMConfig.load(Fixture.tiny.appendingPathComponent("config.json"))
        #expect(c.numCodebooks == 4 && c.vocabSize == 67 && c.textVocabSize == 300 && c.backbone.headDim == 8)
        #expect(c.specialIds == CSMSpecialIds(audioTokenId: 298, audioEosTokenId: 299, codebookEosTokenId: 0, numCodebooks: 4))
        let rope = c.backbone.rope
        #expect(rope.ropeType == "llama3" && rope.factor == 32 && rope.originalMaxPositionEmbeddings == 8192)
        #expect(c.depthDecoderConfig.stack.hiddenSize == 12 && c.depthDecoderConfig.stack.numKeyValueHeads == 1)
        let codec = try JSONSerialization.jsonObject(with: #require(c.codecConfig)) as! [String: Any]
        #expect(codec["model_type"] as? String == "mimi")
    }

    @Test func ignoresUnknownFieldsAndReadsOldRopeSpelling() throws {
        let c = try decode { j in
            j["some_future_field"] = [1, 2]
            let rope = j.removeValue(forKey: "rope_parameters") as! [String: Any]
            j["rope_theta"] = rope["rope_theta"]
            j["rope_scaling"] = ["rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 8192]
            j["audio_eos_token_id"] = [299, 1]
        }
        #expect(c.backbone.rope == (try CSMConfig.load(Fixture.tiny.appendingPathComponent("config.json"))).backbone.rope)
        #expect(c.audioEosTokenId == 299)
    }

    @Test func rejectsImpossibleValues() throws {
        let edits: [(String, (inout [String: Any]) -> Void)] = [
            ("num_key_value_heads", { $0["num_key_value_heads"] = 3 }),
            ("head_dim", { $0["head_dim"] = 7 }),
            ("audio_token_id", { $0["audio_token_id"] = 5000 }),
            ("model_type", { $0["model_type"] = "llama" }),
            ("rope_type", { j in var r = j["rope_parameters"] as! [String: Any]; r["rope_type"] = "yarn"; j["rope_parameters"] = r }),
            ("backbone_hidden_size", { j in
                var d = j["depth_decoder_config"] as! [String: Any]; d["backbone_hidden_size"] = 8; j["depth_decoder_config"] = d }),
        ]
        for (field, edit) in edits {
            #expect(Comment(rawValue: field), performing: { try decode(edit) }, throws: { "\($0)".contains(field) })
        }
    }
}
