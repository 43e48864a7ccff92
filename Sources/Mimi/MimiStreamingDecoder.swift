import Torch

/// `MimiModel.decode` run on codes as they arrive, a chunk of frames at a time (kyutai's streaming Mimi,
/// transformers' `MimiModel.decode(padding_cache:, decoder_past_key_values:)`).
///
/// Every stage of the decoder is causal, so the audio of frame t depends on frames ≤ t only: the samples a chunk
/// yields are final, and the concatenated chunks equal the whole-clip decode of the same codes (up to float
/// rounding: the same sums in a different order). What makes that so is the state carried between chunks:
///
/// - the upsample's overlap: the transposed conv's last `kernel − stride` output steps, still waiting for the
///   next frame's contribution;
/// - the transformer cache: each layer's keys and values of the last `sliding_window − 1` steps (older ones are
///   outside every later step's window) and the position the next step has (its rotary angle);
/// - the SEANet decoder's per-layer state: each causal conv's last `kernel − 1` input steps (its left context),
///   each transposed conv's overlap.
///
/// The quantizer's decode is a per-frame lookup and carries nothing. Chunks may have any number of frames ≥ 1
/// and the batch size must stay the same for one stream. Not thread-safe: one stream, one decoder.
public final class MimiStreamingDecoder {
    public let model: MimiModel
    /// Frames decoded so far.
    public private(set) var frames = 0
    private var upsampleOverlap: Tensor?
    private var transformerCache: MimiTransformerCache
    private var decoderState: [MimiDecoder.LayerState]

    /// Throws for a codec whose decoder looks ahead (non-causal convs, or transposed convs trimmed on the left).
    public init(model: MimiModel) throws {
        guard model.decoder.streams, model.upsample?.streams ?? true else {
            throw MimiError.invalidConfig("this Mimi's decoder is not causal (use_causal_conv false, trim_right_ratio "
                + "≠ 1 or reflect padding): it cannot decode a stream; decode whole clips instead")
        }
        self.model = model
        transformerCache = MimiTransformerCache(layers: model.decoderTransformer.layers.count)
        decoderState = model.decoder.startState()
    }

    /// Samples each frame decodes to.
    public var frameSize: Int { model.config.frameSize }

    /// The next `codes` (batch, k, frames ≥ 1) of the stream → their audio (batch, channels, frames · frameSize).
    public func decode(_ codes: Tensor) throws -> Tensor {
        try model.checkCodes(codes)
        return try withNoGrad {
            let latents = try model.quantizer.decode(codes.to(model.device, dtype: .i64))
            let steps = try model.upsample.map { try $0.step(latents, overlap: &upsampleOverlap) } ?? latents
            let hidden = try model.decoderTransformer(steps.transpose(1, 2), cache: transformerCache).transpose(1, 2)
            let audio = try model.decoder.step(hidden, state: &decoderState)
            frames += codes.size(2)
            return audio
        }
    }

    /// Forgets the stream: the next `decode` starts a new clip.
    public func reset() {
        frames = 0
        upsampleOverlap = nil
        transformerCache = MimiTransformerCache(layers: model.decoderTransformer.layers.count)
        decoderState = model.decoder.startState()
    }
}
