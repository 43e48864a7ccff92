import Foundation
import Torch
@testable import CSM

/// The committed fixture written by tools/fixtures/csm.py.
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/csm").standardizedFileURL
    static let tiny = root.appendingPathComponent("tiny")

    struct Losses: Decodable { let loss: Double, backbone_loss: Double, depth_loss: Double }
    struct TurnJSON: Decodable { let speaker: Int, text_ids: [Int], codes: [[Int]] }
    struct Expected: Decodable {
        let samples: [[TurnJSON]]
        let depth_skip: [[Int]]
        let batch: Losses, batch_fraction: Losses, lora_batch: Losses
        let single: [Losses]
    }

    static let expected: Expected = try! JSONDecoder().decode(
        Expected.self, from: Data(contentsOf: root.appendingPathComponent("expected.json")))
    static let tensors: [String: Tensor] = try! Safetensors.read(root.appendingPathComponent("expected.safetensors"))

    static var samples: [Sample] {
        expected.samples.map { Sample(turns: $0.map { Turn(speaker: $0.speaker, textIds: $0.text_ids, codes: $0.codes) }) }
    }

    static func model() throws -> CSMForConditionalGeneration { try .load(folder: tiny) }
}

/// max |a-b| / max(max|b|, tiny): one relative figure for a whole tensor.
func relativeError(_ a: Tensor, _ b: Tensor) throws -> Double {
    guard a.shape == b.shape else { return .infinity }
    let diff = try (a.to(.f64) - b.to(.f64)).abs().max().item()
    let scale = try b.to(.f64).abs().max().item()
    return diff / max(scale, 1e-12)
}

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-12) }
