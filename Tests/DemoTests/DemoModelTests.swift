import Foundation
import Mimi
import Testing
import Tokenizer
import Torch
@testable import CSM
import TestSupport

/// The tiny random model `make demo` runs on (Tests/Fixtures/demo-model, written by
/// tools/fixtures/demo_model.py) loads in every Swift loader and computes what transformers computes on
/// it. It is the odd one among the fixtures: special tokens at ids 0–3, an 8-codebook codec, a 2k vocab,
/// so anything that assumes CSM-1B's ids or sizes instead of reading them fails here.
@Suite struct DemoModelTests {
    static let model = fixturesFolder.appendingPathComponent("demo-model")
    static let checks = fixturesFolder.appendingPathComponent("demo")

    struct Expected: Decodable {
        struct Text: Decodable { let text: String, ids: [Int] }
        struct TurnJSON: Decodable { let speaker: Int, text: String, text_ids: [Int], codes: [[Int]] }
        struct Losses: Decodable { let loss: Double, backbone_loss: Double, depth_loss: Double }
        let texts: [Text], turns: [TurnJSON], loss: Losses
    }

    static let expected = try! JSONDecoder().decode(Expected.self, from: Data(contentsOf: checks.appendingPathComponent("expected.json")))

    @Test func folderHasTheHuggingFaceLayout() throws {
        for name in ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json", "chat_template.jinja", "processor_config.json"] {
            #expect(FileManager.default.fileExists(atPath: Self.model.appendingPathComponent(name).path), "\(name)")
        }
        let size = try FileManager.default.contentsOfDirectory(at: Self.model, includingPropertiesForKeys: [.fileSizeKey])
            .reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
        #expect(size < 2_000_000)
        let settings = try GenerationSettings.load(folder: Self.model)
        #expect(settings.backbone.topK == 50 && settings.depthDecoder.temperature == 0.9)
    }

    @Test func tokenizerGivesTheTokenizersIds() throws {
        let tokenizer = try Tokenizer(folder: Self.model)
        for t in Self.expected.texts {
            #expect(tokenizer.encode(t.text) == t.ids, "\(t.text)")
        }
        let layout = try TurnLayout(tokenizer: tokenizer)
        #expect([layout.bosId, layout.eosId, layout.audioId, layout.audioEOSId] == [0, 1, 2, 3] as [Int])
        for t in Self.expected.turns {
            #expect(layout.textIds(speaker: t.speaker, text: t.text) == t.text_ids)
        }
    }

    @Test func codecGivesTransformersCodes() throws {
        let mimi = try MimiModel.load(folder: Self.model)
        let audio = try Safetensors.read(Self.checks.appendingPathComponent("audio.safetensors"))
        let segments = try (0 ..< 2).map { try audio["audio\($0)"]!.toArray(Float.self) }
        let codes = try mimi.encode(segments: segments)
        #expect(codes.map(\.count) == [15, 10])  // 12.5 frames/s at 24 kHz: 1.2 s → 15, 0.8 s → 10
        #expect(codes == Self.expected.turns.map(\.codes))
    }

    @Test func modelLossMatchesTransformers() throws {
        let model = try CSMForConditionalGeneration.load(folder: Self.model)
        #expect(model.config.textVocabSize == 2048 && model.config.numCodebooks == 8)
        let sample = Sample(turns: Self.expected.turns.map { Turn(speaker: $0.speaker, textIds: $0.text_ids, codes: $0.codes) })
        let (loss, _) = try withNoGrad { try model.loss(CSMBatch(samples: [sample], config: model.config)) }
        let e = Self.expected.loss
        #expect(parity("DemoModelTests.backbone_loss", abs(try loss.backboneLoss().item() - e.backbone_loss) / e.backbone_loss,
                       Tolerance.f32Forward))
        #expect(parity("DemoModelTests.depth_loss", abs(try loss.depthLoss().item() - e.depth_loss) / e.depth_loss,
                       Tolerance.f32Forward))
        #expect(parity("DemoModelTests.loss", abs(try loss.total().item() - e.loss) / e.loss, Tolerance.f32Forward))
    }
}

/// Every bound DemoModelTests compares with transformers under, declared once, with why it holds on any x86-64 CPU
/// with AVX2 or better (ATen picks CPU kernels per instruction set, so floats differ in the last bits).
enum Tolerance {
    /// f32 losses of the demo model (2 backbone + 2 depth-decoder layers) against transformers: kernels differ by
    /// ~1e-7 relative per op across instruction sets; 1e-5 relative.
    static let f32Forward = 1e-5
}

