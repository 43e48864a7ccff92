import Torch

/// HF `MimiModel`: 24 kHz audio ↔ discrete codes (batch, codebooks, frames) at 12.5 frames/s.
///
/// Properties mirror the checkpoint layout (the original flat one HF reads and writes): `encoder.layers.N`,
/// `encoder_transformer`, `downsample`, `quantizer`, `upsample`, `decoder_transformer`, `decoder.layers.N`.
public final class MimiModel {
    public let config: MimiConfig
    /// Codebooks `encode` produces by default (CSM uses its `num_codebooks`).
    public let numCodebooks: Int
    /// Where the weights live; inputs are moved here.
    public let device: Device
    let encoder: MimiEncoder
    let encoderTransformer: MimiTransformerModel
    let downsample: MimiConv1d?
    let quantizer: MimiSplitResidualVectorQuantizer
    let upsample: MimiConvTranspose1d?
    let decoderTransformer: MimiTransformerModel
    let decoder: MimiDecoder

    /// Builds the model from weights under `vb` (e.g. `vb.pp("codec_model")` inside a CSM checkpoint).
    public init(_ vb: VarBuilder, config: MimiConfig, numCodebooks: Int? = nil) throws {
        try config.validate()
        self.config = config
        self.numCodebooks = numCodebooks ?? config.numQuantizers
        guard (config.numSemanticQuantizers...config.numQuantizers).contains(self.numCodebooks) else {
            throw MimiError.invalidConfig("num_codebooks \(self.numCodebooks) outside \(config.numSemanticQuantizers)"
                + "...\(config.numQuantizers) (num_quantizers)")
        }
        let vb = vb.with(dtype: .f32)  // the codec runs in float32 whatever the checkpoint stores
        device = vb.device
        encoder = try MimiEncoder(vb.pp("encoder"), config: config)
        encoderTransformer = try MimiTransformerModel(vb.pp("encoder_transformer"), config: config)
        let hidden = config.hiddenSize, stride = config.latentStride
        downsample = config.hasResampling
            ? try MimiConv1d(vb.pp("downsample"), config: config, inChannels: hidden, outChannels: hidden,
                             kernelSize: 2 * stride, stride: stride, padMode: "replicate", bias: false)
            : nil
        quantizer = try MimiSplitResidualVectorQuantizer(vb.pp("quantizer"), config: config)
        upsample = config.hasResampling
            ? try MimiConvTranspose1d(vb.pp("upsample"), config: config, inChannels: hidden, outChannels: hidden,
                                      kernelSize: 2 * stride, stride: stride, groups: config.upsampleGroups,
                                      bias: false)
            : nil
        decoderTransformer = try MimiTransformerModel(vb.pp("decoder_transformer"), config: config)
        decoder = try MimiDecoder(vb.pp("decoder"), config: config)
    }

    /// SEANet encoder steps computed per chunk (about 2 s of audio), see `MimiEncoder.chunked`.
    var encoderChunkSteps: Int { max(1, 2 * config.samplingRate / config.hopLength) }

    /// Frames `encode` yields for a clip of `samples` (HF `get_encoded_length`): ⌈samples / frameSize⌉ for Mimi.
    public func encodedLength(_ samples: Int) -> Int {
        let steps = encoder.outputLength(samples)
        return downsample?.outputLength(steps) ?? steps
    }

    /// Codes (batch, codebooks, frames) of `audio` (batch, channels, samples), as HF `MimiModel.encode`.
    ///
    /// `lengths` gives each sample's valid length in a right-padded batch; every sample's first
    /// `encodedLength(length)` frames then equal encoding it alone (later frames are padding, left unspecified).
    public func encode(_ audio: Tensor, lengths: [Int]? = nil, numCodebooks: Int? = nil) throws -> Tensor {
        try checkAudio(audio, lengths: lengths)
        return try withNoGrad {
            try quantizer.encode(latents(audio.to(device), lengths: lengths), numQuantizers: numCodebooks ?? self.numCodebooks)
        }
    }

    /// The continuous latents (batch, hidden, frames) before quantization (HF `MimiEncoderModel` output).
    func latents(_ audio: Tensor, lengths: [Int]? = nil) throws -> Tensor {
        var valid = lengths.map(ValidLengths.init)
        let steps = try encoder.chunked(audio, lengths: &valid, chunkSteps: encoderChunkSteps)
        let hidden = try encoderTransformer(steps.transpose(1, 2)).transpose(1, 2)
        return try downsample.map { try $0(hidden, lengths: valid) } ?? hidden
    }

    /// `encode` with HF's padding mask (batch, samples) or (batch, channels, samples): 1 = audio, 0 = padding
    /// on the right.
    public func encode(_ audio: Tensor, paddingMask: Tensor, numCodebooks: Int? = nil) throws -> Tensor {
        let mask = paddingMask.rank == 3 ? try paddingMask.select(1, 0) : paddingMask
        let lengths = try mask.to(.i64).sum(-1).toArray(Int.self)
        return try encode(audio, lengths: lengths, numCodebooks: numCodebooks)
    }

    /// Audio (batch, channels, frames · frameSize) of `codes` (batch, k, frames), as HF `MimiModel.decode`.
    public func decode(_ codes: Tensor) throws -> Tensor {
        try checkCodes(codes)
        return try withNoGrad {
            let latents = try quantizer.decode(codes.to(device, dtype: .i64))
            let steps = try upsample.map { try $0(latents) } ?? latents
            let hidden = try decoderTransformer(steps.transpose(1, 2)).transpose(1, 2)
            return try decoder(hidden)
        }
    }

    func checkCodes(_ codes: Tensor) throws {
        guard codes.rank == 3, codes.size(1) >= 1, codes.size(1) <= config.numQuantizers, codes.size(2) > 0 else {
            throw MimiError.badInput("codes must be (batch, 1...\(config.numQuantizers) codebooks, frames > 0), got \(codes.shape)")
        }
        let (low, high) = (try codes.min().itemInt(), try codes.max().itemInt())
        guard low >= 0, high < config.codebookSize else {
            throw MimiError.badInput("codes must lie in 0..<\(config.codebookSize), found \(low)...\(high)")
        }
    }

    private func checkAudio(_ audio: Tensor, lengths: [Int]?) throws {
        guard audio.rank == 3, audio.size(1) == config.audioChannels else {
            throw MimiError.badInput("audio must be (batch, \(config.audioChannels) channel(s), samples), got \(audio.shape)")
        }
        guard audio.size(0) > 0, audio.size(2) > 0 else { throw MimiError.badInput("empty audio (no samples)") }
        guard audio.dtype == .f32 else { throw MimiError.badInput("audio must be float32, got \(audio.dtype)") }
        if let lengths {
            guard lengths.count == audio.size(0), lengths.allSatisfy({ $0 > 0 && $0 <= audio.size(2) }) else {
                throw MimiError.badInput("lengths \(lengths) must give each of the \(audio.size(0)) clips 1...\(audio.size(2)) samples")
            }
        }
        guard try audio.isFinite().all().item() != 0 else {
            throw MimiError.badInput("audio contains NaN or infinite samples")
        }
    }
}
