import Foundation
import Testing
@testable import Torch

/// Whole-graph gradients against torch: a two-layer MLP with cross-entropy (ignore_index) and a
/// pre-norm attention block with grouped kv heads and a causal mask.
@Suite struct ModelGradientTests {
    /// The fixture's parameters under `prefix/param/`, as fresh trainable leaves.
    static func parameters(_ file: SafetensorsFile, _ prefix: String) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for key in file.keys where key.hasPrefix("\(prefix)/param/") {
            out[String(key.dropFirst("\(prefix)/param/".count))] = try file.tensor(key).clone().requiresGrad(true)
        }
        return out
    }

    static func mlpLoss(_ p: [String: Tensor], _ x: Tensor, _ y: Tensor) throws -> Tensor {
        let h = try x.linear(p["fc1.weight"]!, bias: p["fc1.bias"]!).silu()
        return try h.linear(p["fc2.weight"]!, bias: p["fc2.bias"]!).crossEntropy(y, ignoreIndex: -100)
    }

    static func attentionBlock(_ p: [String: Tensor], _ x: Tensor, _ w: Tensor) throws -> Tensor {
        let (b, s, d) = (x.size(0), x.size(1), x.size(2))
        let h = try x.rmsNorm(weight: p["norm.weight"]!, eps: 1e-5)
        let heads = { (name: String, n: Int) in try h.linear(p[name]!).view([b, s, n, 4]).transpose(1, 2) }
        let o = try Tensor.scaledDotProductAttention(query: heads("q_proj.weight", 4), key: heads("k_proj.weight", 2),
                                                     value: heads("v_proj.weight", 2), isCausal: true, enableGQA: true)
        let out = try x + o.transpose(1, 2).reshape([b, s, d]).linear(p["o_proj.weight"]!)
        return try (out * w).sum()
    }

    @Test func mlpGradientsMatchTorch() throws {
        let file = try TorchFixture.tensors("models")
        let p = try Self.parameters(file, "mlp")
        #expect(p.count == 4)
        let x = try file.tensor("mlp/x").clone().requiresGrad(true)
        let loss = try Self.mlpLoss(p, x, file.tensor("mlp/y"))
        try expectClose(loss, file.tensor("mlp/loss"), nil, "mlp loss")
        try loss.backward()
        try expectClose(try #require(try x.grad), file.tensor("mlp/grad/x"), nil, "mlp grad x")
        for (name, t) in p {
            try expectClose(try #require(try t.grad), file.tensor("mlp/grad/\(name)"), nil, "mlp grad \(name)")
        }
    }

    @Test func attentionGradientsMatchTorch() throws {
        let file = try TorchFixture.tensors("models")
        let p = try Self.parameters(file, "attn")
        #expect(p.count == 5)
        let x = try file.tensor("attn/x").clone().requiresGrad(true)
        let loss = try Self.attentionBlock(p, x, file.tensor("attn/w"))
        try expectClose(loss, file.tensor("attn/loss"), nil, "attention loss")
        try loss.backward()
        try expectClose(try #require(try x.grad), file.tensor("attn/grad/x"), nil, "attention grad x")
        for (name, t) in p {
            try expectClose(try #require(try t.grad), file.tensor("attn/grad/\(name)"), nil, "attention grad \(name)")
        }
    }
}
