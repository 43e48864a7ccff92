import Foundation
import Torch

/// Autoregressive frame generation, as transformers' `CsmGenerationMixin._sample`:
/// the backbone reads the prompt once (prefill, KV cache), then per frame its last hidden state gives
/// codebook 0 through `lm_head`; the depth decoder (its own KV cache, emptied each frame) starts from that
/// hidden state and codebook 0 and yields codebooks 1..<K one at a time; the frame's summed embedding is
/// the backbone's next input. Generation stops after a frame whose codebooks 0..<K-1 all equal
/// `codebook_eos_token_id` (transformers' test; that frame is returned, but is not audio) or after
/// `maxFrames` frames.
///
/// Everything of a frame runs on the model's device: sampling (`TokenSampler`) leaves each code there, the depth
/// decoder and the backbone read the codes from there, and the backbone's KV caches are static buffers written in
/// place. The host reads one tensor per frame, the frame's K codes (for `onFrame` and the end-of-audio test).
public struct Generator {
    public let model: CSMForConditionalGeneration

    public struct Options: Sendable {
        public var maxFrames: Int
        public var settings: GenerationSettings
        public var seed: UInt64

        public init(maxFrames: Int, settings: GenerationSettings = GenerationSettings(), seed: UInt64 = 0) {
            self.maxFrames = maxFrames
            self.settings = settings
            self.seed = seed
        }

        /// Mimi's 12.5 frames per second.
        public static let framesPerSecond = 12.5

        /// Whole frames within `seconds` of audio (10 s → 125; Sesame's `int(max_audio_length_ms / 80)`), at least 1.
        public static func frames(seconds: Double) -> Int { max(1, Int((seconds * framesPerSecond + 1e-9).rounded(.down))) }
    }

    public struct Output: Sendable {
        /// Every generated frame (K codes each), the stop frame included when there was one.
        public var frames: [[Int]]
        /// Whether generation ended on an end-of-audio frame (rather than at `maxFrames`).
        public var stoppedAtEnd: Bool
        public var promptLength: Int
        /// The frames that are audio: without the stop frame.
        public var audioFrames: [[Int]] { stoppedAtEnd ? Array(frames.dropLast()) : frames }
    }

    public init(model: CSMForConditionalGeneration) { self.model = model }

    /// Throws `promptTooLong` unless the prompt and `frames` new frames fit the backbone's positions.
    public func checkLength(_ prompt: GenerationPrompt, frames: Int) throws {
        let limit = model.config.backbone.maxPositionEmbeddings
        if prompt.length + frames > limit {
            throw GenerationError.promptTooLong(prompt: prompt.length, frames: frames, limit: limit)
        }
    }

    /// Whether `frame` is the end-of-audio frame (codebooks 0..<K-1 all `codebook_eos_token_id`): generation
    /// stops after it and it is not audio.
    public func isEndOfAudio(_ frame: [Int]) -> Bool {
        frame.prefix(model.config.numCodebooks - 1).allSatisfy { $0 == model.config.codebookEosTokenId }
    }

    /// Generates up to `options.maxFrames` frames continuing `prompt`. `onFrame` sees each frame as it is made
    /// (the end-of-audio frame too); an error it throws stops generation.
    public func generate(_ prompt: GenerationPrompt, options: Options,
                         onFrame: (([Int]) throws -> Void)? = nil) throws -> Output {
        guard options.maxFrames > 0 else {
            throw GenerationError.invalidSetting("the number of frames to generate must be > 0, got \(options.maxFrames)")
        }
        try options.settings.backbone.validate("backbone")
        try options.settings.depthDecoder.validate("depth decoder")
        try checkLength(prompt, frames: options.maxFrames)
        let config = model.config, k = config.numCodebooks
        var rng = SeededRandom(seed: options.seed)
        return try withNoGrad {
            let batch = try CSMBatch([prompt.layout(config.specialIds)], numCodebooks: k, device: model.device)
            // The prompt, then one position per frame but the last (whose codes are not read back in).
            let caches = model.backboneModel.layers.map { _ in KVCache(capacity: prompt.length + options.maxFrames) }
            let depth = try DepthFrameDecoder(model: model)
            var hidden = try model.backboneModel(inputsEmbeds: model.embed(batch), mask: nil, caches: caches)
            var frames: [[Int]] = []
            while true {
                let last = try hidden.select(1, hidden.size(1) - 1)  // (1, hidden)
                let code0 = try TokenSampler.sample(model.lmHead(last).select(0, 0), options.settings.backbone, rng: &rng)
                let codes = try depth(backboneHidden: last, code0: code0, options.settings.depthDecoder, rng: &rng)
                let frame = try codes.toArray(Int64.self).map(Int.init)  // the frame's one read back to the host
                frames.append(frame)
                try onFrame?(frame)
                if isEndOfAudio(frame) {
                    return Output(frames: frames, stoppedAtEnd: true, promptLength: prompt.length)
                }
                if frames.count == options.maxFrames { break }
                hidden = try model.backboneModel(inputsEmbeds: model.backboneModel.embedTokens(codes.view([1, 1, k])),
                                                 mask: nil, caches: caches)
            }
            return Output(frames: frames, stoppedAtEnd: false, promptLength: prompt.length)
        }
    }

    /// `generate`, with the audio frames decoded as they come: `stream` gets every frame but the end-of-audio one
    /// and is finished (its last, partial chunk decoded) before this returns.
    public func generate(_ prompt: GenerationPrompt, options: Options, streamingTo stream: SpeechStream,
                         onFrame: (([Int]) throws -> Void)? = nil) throws -> Output {
        let output = try generate(prompt, options: options) { frame in
            try onFrame?(frame)
            if !isEndOfAudio(frame) { try stream.append(frame) }
        }
        try stream.finish()
        return output
    }
}

/// Codebooks 1..<K of one frame from the depth decoder (`CsmDepthDecoderForCausalLM.generate`), on the device:
/// position 0 is the backbone's hidden state, position 1 codebook 0; each step's last hidden state gives the next
/// code, which is embedded from its codebook's rows of `embed_tokens` for the next step. What every frame reuses is
/// made once per generation: KV caches (emptied per frame), the rotary cos/sin of each step's positions
/// (the same ops the decoder would run per step, so the same values), and views of each codebook's embedding rows
/// and head matrix.
final class DepthFrameDecoder {
    let model: DepthDecoderForCausalLM
    let numCodebooks: Int
    let caches: [KVCache]
    /// Codebook c's rows of `embed_tokens`: (vocab, hidden), views.
    let embeddings: [Tensor]
    /// `CsmCodebooksHead`'s matrix for codebook c at [c - 1]: (hidden, vocab), views (no gather of the weight).
    let heads: [Tensor]
    /// [0]: positions 0 and 1 (the first step); [c]: position c + 1 (the step that reads codebook c).
    private var rope: [(cos: Tensor, sin: Tensor)] = []

    init(model csm: CSMForConditionalGeneration) throws {
        let depth = csm.depthDecoder, k = csm.config.numCodebooks
        let vocab = depth.model.vocabSize, table = depth.model.embedTokens.weight, head = depth.codebooksHead.weight
        model = depth
        numCodebooks = k
        // At most K positions of a small decoder: growing by `cat` costs one kernel per step, as writing in place
        // does, without the two views per tensor a static buffer needs (measured faster on the CPU); the backbone's
        // caches, thousands of positions long, are the static ones.
        caches = depth.model.layers.map { _ in KVCache() }
        embeddings = try (0..<k - 1).map { try table.narrow(0, $0 * vocab, vocab) }
        heads = try (0..<k - 1).map { try head.select(0, $0) }
    }

    /// backboneHidden (1, backbone hidden), code0 (1,) int64 → the frame's codes (K,) int64, on the device.
    func callAsFunction(backboneHidden: Tensor, code0: Tensor, _ sampling: Sampling,
                        rng: inout SeededRandom) throws -> Tensor {
        let decoder = model.model, k = numCodebooks
        for cache in caches { cache.reset() }
        let code0Embedding = try embeddings[0].embedding(code0.view([1, 1]))  // (1, 1, hidden)
        var x = try decoder.inputsEmbedsProjector(
            Tensor.cat([backboneHidden.unsqueeze(1).to(code0Embedding.dtype), code0Embedding], dim: 1))
        try prepareRope(dtype: x.dtype, device: x.device)
        var h = try decoder.stack(x, mask: nil, caches: caches, rope: rope[0])
        var codes = [code0]
        for codebook in 1..<k {
            let logits = try h.select(1, h.size(1) - 1).matmul(heads[codebook - 1]).select(0, 0)
            let code = try TokenSampler.sample(logits, sampling, rng: &rng)
            codes.append(code)
            if codebook < k - 1 {
                x = try decoder.inputsEmbedsProjector(embeddings[codebook].embedding(code.view([1, 1])))
                h = try decoder.stack(x, mask: nil, caches: caches, rope: rope[codebook])
            }
        }
        return try Tensor.cat(codes, dim: 0)
    }

    private func prepareRope(dtype: DType, device: Device) throws {
        if let first = rope.first, first.cos.dtype == dtype, first.cos.device == device { return }
        let rotary = model.model.stack.rotaryEmb
        rope = [try rotary(start: 0, count: 2, dtype: dtype, device: device)]
        for codebook in 1..<numCodebooks - 1 {
            rope.append(try rotary(start: codebook + 1, count: 1, dtype: dtype, device: device))
        }
    }
}
