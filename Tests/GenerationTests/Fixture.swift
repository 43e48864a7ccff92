import Foundation
import Torch
@testable import CSM
import TestSupport

/// The tiny CSM of tools/fixtures/csm.py and the frames transformers generated on it (tools/fixtures/generation.py).
enum Fixture {
    static let tiny = fixturesFolder.appendingPathComponent("csm/tiny")
    static let adapter = fixturesFolder.appendingPathComponent("csm/peft_adapter")

    struct TurnJSON: Decodable { let speaker: Int, text_ids: [Int], codes: [[Int]] }
    struct Case: Decodable {
        let name: String
        let context: [TurnJSON]
        let target_text_ids: [Int]
        let prompt_length: Int
        let frames: [[Int]]

        var prompt: GenerationPrompt {
            GenerationPrompt(context: context.map { Turn(speaker: $0.speaker, textIds: $0.text_ids, codes: $0.codes) },
                             textIds: target_text_ids)
        }
    }
    struct Expected: Decodable {
        let max_new_tokens: Int
        let temperature: Double
        let top_k: Int
        let cases: [Case]
    }

    static let expected: Expected = try! JSONDecoder().decode(
        Expected.self, from: Data(contentsOf: fixturesFolder.appendingPathComponent("generation/expected.json")))

    static func model() throws -> CSMForConditionalGeneration { try .load(folder: tiny) }

    /// A fresh empty folder under the temporary directory.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("csm-gen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Every bound this target's suites compare under, declared once, with why it holds on any x86-64 CPU with AVX2
/// or better (ATen picks CPU kernels per instruction set, so logits differ in the last bits between CPUs).
enum Tolerance {
    /// Smallest gap between the chosen code's logit and the runner-up, relative to the row's largest |logit|, for
    /// frames compared exactly. Every CPU's logits are within ε = 1e-5 of transformers' (CSMTests' f32Forward,
    /// measured ≤ 1e-6), so transformers' own gap is at least ours − 2ε, and another CPU keeps the code while that
    /// exceeds 2ε: ours ≥ 4ε = 4e-5.
    static let argmaxMargin = 4e-5
    /// Logits of the merged model reloaded against base + adapter (absolute; they reach ~4 here): same machine,
    /// W + s·BA summed once vs the two products added, f32 reassociation only; measured 5.4e-6 (AVX2) and 6.3e-6
    /// (default kernels), so 3e-5 (~8e-6 relative) leaves room for AVX512/AMX blocking.
    static let mergedLogits = 3e-5
    /// Frequency of a top-k outcome over 3000 seeded draws against its softmax probability: statistical,
    /// σ = sqrt(0.23·0.77/3000) = 0.0077, so 0.03 is ~4σ; a CPU's softmax rounding moves a draw or two at most.
    static let sampledFrequency = 0.03
    /// Streamed speech against the whole-clip decode of the same frames (absolute, before 16-bit conversion): the
    /// bar `MimiStreamingDecoder` meets (MimiTests' `streamed`), 1e-4.
    static let streamed = 1e-4
}


/// Prints `PARITY <what> <measured> >= <bound>` for a margin (bigger is safer) and returns whether it is at least
/// the bound.
@discardableResult
func parityMargin(_ what: String, _ measured: Double, _ bound: Double) -> Bool {
    print("PARITY \(what) \(String(format: "%.3g", measured)) >= \(String(format: "%.3g", bound))")
    return measured >= bound
}

extension Fixture {
    /// The reference walk of generation with the plain ops (growing KV caches, ids fed back from the host): each
    /// frame's codebook 0 from `lm_head`, codebooks 1..<K from the depth decoder, every code chosen by
    /// `pick(logits, frameIndex, codebook)`. Stops after `maxFrames`, or at the end-of-audio frame if `stopAtEnd`.
    static func referenceWalk(_ model: CSMForConditionalGeneration, _ prompt: GenerationPrompt, maxFrames: Int,
                              stopAtEnd: Bool, pick: (Tensor, Int, Int) throws -> Int) throws -> [[Int]] {
        let config = model.config, k = config.numCodebooks, depth = model.depthDecoder
        return try withNoGrad {
            let batch = try CSMBatch([prompt.layout(config.specialIds)], numCodebooks: k, device: model.device)
            let caches = model.backboneModel.layers.map { _ in KVCache() }
            var hidden = try model.backboneModel(inputsEmbeds: model.embed(batch), mask: nil, caches: caches)
            var frames: [[Int]] = []
            while frames.count < maxFrames {
                let last = try hidden.select(1, hidden.size(1) - 1)
                var frame = [try pick(model.lmHead(last).select(0, 0), frames.count, 0)]
                let depthCaches = depth.model.layers.map { _ in KVCache() }
                var h = try depth.model(inputIds: Tensor([Int64(0), Int64(frame[0])], shape: [1, 2]).to(model.device),
                                        backboneLastHidden: last, caches: depthCaches)
                for codebook in 1..<k {
                    let head = try depth.codebooksHead.weight.select(0, codebook - 1)
                    frame.append(try pick(h.select(1, h.size(1) - 1).matmul(head).select(0, 0), frames.count, codebook))
                    if codebook < k - 1 {
                        h = try depth.model(inputIds: Tensor([Int64(frame[codebook])], shape: [1, 1]).to(model.device),
                                            backboneLastHidden: nil, caches: depthCaches)
                    }
                }
                frames.append(frame)
                if stopAtEnd, frame.prefix(k - 1).allSatisfy({ $0 == config.codebookEosTokenId }) { break }
                let codes = try Tensor(frame.map(Int64.init), shape: [1, 1, k]).to(model.device)
                hidden = try model.backboneModel(inputsEmbeds: model.backboneModel.embedTokens(codes), mask: nil, caches: caches)
            }
            return frames
        }
    }

    /// How far every argmax `Generator.generate` takes to produce `frames` after `prompt` is from a tie: the
    /// smallest (chosen logit − largest other logit) / largest |logit| of the row, over codebook 0 (lm_head) and
    /// codebooks 1..<K (depth decoder) of every frame, replayed with the reference walk. Negative when some frame
    /// code is not the argmax here.
    static func argmaxMargin(_ model: CSMForConditionalGeneration, _ prompt: GenerationPrompt, frames: [[Int]]) throws -> Double {
        var worst = Double.infinity
        _ = try referenceWalk(model, prompt, maxFrames: frames.count, stopAtEnd: false) { logits, f, c in
            let row = try logits.to(.f32).toArray(Float.self).map(Double.init), chosen = frames[f][c]
            let runnerUp = row.indices.filter { $0 != chosen }.map { row[$0] }.max()!
            worst = Swift.min(worst, (row[chosen] - runnerUp) / Swift.max(row.map(abs).max()!, 1e-30))
            return chosen
        }
        return worst
    }

    /// The frames `Generator` made when it sampled on the host (before sampling moved to the device): every code read
    /// back and drawn by `TokenSampler.hostDraw` with the same uniforms, growing KV caches, the depth decoder fed
    /// ids from the host. The reference that device sampling must reproduce seed for seed.
    static func hostSampledFrames(_ model: CSMForConditionalGeneration, _ prompt: GenerationPrompt,
                                  options: Generator.Options) throws -> [[Int]] {
        var rng = SeededRandom(seed: options.seed)
        return try referenceWalk(model, prompt, maxFrames: options.maxFrames, stopAtEnd: true) { logits, _, codebook in
            let s = codebook == 0 ? options.settings.backbone : options.settings.depthDecoder
            var scores = try logits.to(.f32)
            guard s.doSample else { return try scores.argmax(-1).itemInt() }
            if s.temperature != 1 { scores = try scores / s.temperature }
            if s.topK > 0 {
                let k = Swift.min(s.topK, scores.size(-1))
                let kth = try scores.topk(k).values.narrow(-1, k - 1, 1)
                scores = try scores.maskedFill(scores.lt(kth), -.infinity)
            }
            return TokenSampler.hostDraw(try scores.softmax(-1).toArray(Float.self), u: rng.unit())
        }
    }
}
