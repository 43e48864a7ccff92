import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

/// The committed fixture written by tools/fixtures/csm.py.
enum Fixture {
    static let root = fixturesFolder.appendingPathComponent("csm")
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

/// The three losses of `loss` against transformers' `want`, each within `Tolerance.f32Forward` relative.
func expectLosses(_ loss: CSMLoss, _ want: Fixture.Losses, _ what: String,
                  sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(parity("\(what).backbone_loss", relativeError(try loss.backboneLoss().item(), want.backbone_loss),
                   Tolerance.f32Forward), sourceLocation: sourceLocation)
    #expect(parity("\(what).depth_loss", relativeError(try loss.depthLoss().item(), want.depth_loss), Tolerance.f32Forward),
            sourceLocation: sourceLocation)
    #expect(parity("\(what).loss", relativeError(try loss.total().item(), want.loss), Tolerance.f32Forward),
            sourceLocation: sourceLocation)
}

/// Batch logits against transformers' `want`, row by row over each sample's real positions (past a row's length
/// the padded logits mean nothing), within `Tolerance.f32Forward` relative.
func expectRowLogits(_ logits: Tensor, _ want: Tensor, _ batch: CSMBatch, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (r, layout) in batch.layouts.enumerated() {
        let n = layout.count
        #expect(parity("\(what).row\(r).logits",
                       try relativeError(logits.select(0, r).narrow(0, 0, n), want.select(0, r).narrow(0, 0, n)),
                       Tolerance.f32Forward), sourceLocation: sourceLocation)
    }
}

/// Every bound this target's suites compare under, declared once. ATen picks CPU kernels per instruction set
/// (AVX2, AVX512/AMX, or `ATEN_CPU_CAPABILITY=default`), so results differ from a fixture's in the last bits;
/// each bound says why it holds on any x86-64 CPU with AVX2 or better. Errors are `relativeError`s: the largest
/// difference over the largest expected magnitude.
enum Tolerance {
    /// f32 logits and losses of the tiny CSM (2 backbone + 2 depth-decoder layers, a few dozen ops deep) against
    /// transformers: kernels differ by ~1e-7 relative per op across instruction sets; 1e-5 of the largest value.
    static let f32Forward = 1e-5
    /// f32 gradients against transformers: the backward pass doubles the depth and sums over every position, so
    /// reduction order shows more; 1e-4 of each gradient's largest entry.
    static let f32Gradient = 1e-4
    /// Same machine, the same f32 math in another order (micro-batches vs one batch, KV-cache steps vs one pass,
    /// merged vs separate LoRA product): reassociation only, ~1e-7 relative per op; 1e-5.
    static let f32Reordered = 1e-5
    /// Same machine, the very same ops run again (recomputed MLPs; the widened bf16 product vs writing it out):
    /// only the order gradients are accumulated in may differ; 1e-6.
    static let f32Recomputed = 1e-6
    /// Logits of a bf16/f16 checkpoint read back as f32, against the f32 model: each weight rounded once (up to
    /// 2^-9 relative for bf16), compounding through the fixture's large random weights (std 0.3) over 4 layers.
    static let halfCheckpointUpcast = 0.05
    /// The same checkpoint computed natively in bf16/f16: activations and outputs are rounded too.
    static let halfCheckpointNative = 0.1
    /// LoRA loss over a bf16 frozen base against the f32 base (TrainingMemoryTests: measured ~5e-4 relative).
    static let bf16BaseLoss = 2e-3
    /// All LoRA gradients together (relative L2) over a bf16 frozen base, the product upcast to f32 (measured ~1 %).
    static let bf16BaseGradientUpcast = 4e-2
    /// The same with the native bf16 product, which also rounds activations and output gradients (measured ~3 %).
    static let bf16BaseGradientNative = 8e-2
    /// Losses under bf16 compute (products, attention and activations rounded to 8 bits, as torch.autocast) against
    /// f32: transformers' own autocast gap on this batch is 5.4e-4 relative (autocast.json); ours measured 5.6e-4
    /// (backbone 2.9e-4, depth 8.6e-4) on an AVX2 EPYC. Rounding, not kernels, sets it; ~4× that on any CPU.
    static let bf16ComputeLoss = 3e-3
    /// Per LoRA tensor, cosine similarity of the bf16-compute gradient with the f32 one: the 0.99
    /// (transformers' own autocast reaches 0.991 at worst on this fixture's std-0.3 weights; ours 0.9964).
    static let bf16ComputeGradientCosine = 0.99
}

