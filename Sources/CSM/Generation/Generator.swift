import Foundation
import Torch

/// Autoregressive frame generation, as transformers' `CsmGenerationMixin._sample`:
/// the backbone reads the prompt once (prefill, KV cache), then per frame its last hidden state gives
/// codebook 0 through `lm_head`; the depth decoder (its own KV cache, fresh each frame) starts from that
/// hidden state and codebook 0 and yields codebooks 1..<K one at a time; the frame's summed embedding is
/// the backbone's next input. Generation stops after a frame whose codebooks 0..<K-1 all equal
/// `codebook_eos_token_id` (transformers' test; that frame is returned, but is not audio) or after
/// `maxFrames` frames.
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
            let caches = model.backboneModel.layers.map { _ in KVCache() }
            var hidden = try model.backboneModel(inputsEmbeds: model.embed(batch), mask: nil, caches: caches)
            var frames: [[Int]] = []
            while true {
                let last = try hidden.select(1, hidden.size(1) - 1)  // (1, hidden)
                let code0 = try TokenSampler.sample(model.lmHead(last).select(0, 0), options.settings.backbone, rng: &rng)
                let frame = try depthFrame(backboneHidden: last, code0: code0, options.settings.depthDecoder, rng: &rng)
                frames.append(frame)
                try onFrame?(frame)
                if isEndOfAudio(frame) {
                    return Output(frames: frames, stoppedAtEnd: true, promptLength: prompt.length)
                }
                if frames.count == options.maxFrames { break }
                let codes = try Tensor(frame.map(Int64.init), shape: [1, 1, k]).to(model.device)
                hidden = try model.backboneModel(inputsEmbeds: model.backboneModel.embedTokens(codes), mask: nil,
                                                 caches: caches)
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

    /// Codebooks 1..<K of one frame from the depth decoder (`CsmDepthDecoderForCausalLM.generate`): position 0
    /// is the backbone's hidden state, position 1 codebook 0; each step's last hidden state gives the next code.
    func depthFrame(backboneHidden: Tensor, code0: Int, _ sampling: Sampling, rng: inout SeededRandom) throws -> [Int] {
        let depth = model.depthDecoder, k = model.config.numCodebooks
        let caches = depth.model.layers.map { _ in KVCache() }
        let first = try Tensor([Int64(0), Int64(code0)], shape: [1, 2]).to(model.device)
        var h = try depth.model(inputIds: first, backboneLastHidden: backboneHidden, caches: caches)
        var codes = [code0]
        for codebook in 1..<k {
            // `CsmCodebooksHead` for one position: a view of this codebook's matrix (no gather of the weight).
            let head = try depth.codebooksHead.weight.select(0, codebook - 1)  // (hidden, vocab)
            let code = try TokenSampler.sample(h.select(1, h.size(1) - 1).matmul(head).select(0, 0), sampling, rng: &rng)
            codes.append(code)
            if codebook < k - 1 {
                h = try depth.model(inputIds: Tensor([Int64(code)], shape: [1, 1]).to(model.device),
                                    backboneLastHidden: nil, caches: caches)
            }
        }
        return codes
    }
}
