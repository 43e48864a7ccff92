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
/// It is a `BatchGenerator` of one row; several prompts at once go through `BatchGenerator` itself.
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

        func validate() throws {
            guard maxFrames > 0 else {
                throw GenerationError.invalidSetting("the number of frames to generate must be > 0, got \(maxFrames)")
            }
            try settings.backbone.validate("backbone")
            try settings.depthDecoder.validate("depth decoder")
        }

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
        try options.validate()
        try checkLength(prompt, frames: options.maxFrames)
        // A batch of one, its caches sized to this prompt: with a single row there is no padding and no mask, so the
        // steps are the plain single-sequence ones.
        let batch = try BatchGenerator(model: model, maxRows: 1, maxPositions: prompt.length + options.maxFrames)
        let row = try batch.join(prompt, options: options)
        var frames: [[Int]] = []
        while true {
            guard let event = try batch.step()[row] else { preconditionFailure("step() reports every active row") }
            frames.append(event.codes)
            try onFrame?(event.codes)
            if event.isLast {
                return Output(frames: frames, stoppedAtEnd: event.isEndOfAudio, promptLength: prompt.length)
            }
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
