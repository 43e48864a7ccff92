import Foundation
import Torch

/// `WhisperFeatureExtractor`: clips (already at the checkpoint's sampling rate) → log-mel features
/// (batch, mel bins, frames per window), as its torch path computes them and within 1e-4 of its numpy path.
///
/// Each clip is padded with zeros or cut to the window (30 s), then: reflect-padded STFT with a periodic Hann
/// window, power spectrum without the last frame, mel filters (Slaney), log10 of max(·, 1e-10), floor at the
/// clip's maximum − 8, and (x + 4) / 4.
public struct LogMelSpectrogram {
    public let config: FeatureExtractorConfig
    /// (mel bins, frequency bins): the filter bank transposed, ready to multiply the power spectrum.
    let filters: Tensor
    let window: Tensor

    public init(config: FeatureExtractorConfig, device: Device = .cpu) throws {
        self.config = config
        let bins = config.nFFT / 2 + 1
        let bank = MelFilterBank.slaney(frequencyBins: bins, melFilters: config.featureSize,
                                        samplingRate: config.samplingRate)
        // torch path: torch.from_numpy(f64 filters).to(float32), used as filters.T @ power.
        filters = try Tensor(bank, shape: [bins, config.featureSize]).to(device, dtype: .f32).transpose(0, 1).contiguous()
        // torch.hann_window(n_fft): periodic, 0.5 − 0.5·cos(2πn/N).
        let n = Double(config.nFFT)
        let hann = (0..<config.nFFT).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / n)) }
        window = try Tensor(hann).to(device)
    }

    /// (batch, featureSize, framesPerWindow) f32 on the extractor's device.
    public func callAsFunction(_ clips: [[Float]]) throws -> Tensor {
        guard !clips.isEmpty else { throw WhisperError.badInput("no clips to transcribe") }
        let length = config.samplesPerWindow
        var padded = [Float](repeating: Float(config.paddingValue), count: clips.count * length)
        for (i, clip) in clips.enumerated() {
            let n = min(clip.count, length)
            padded.withUnsafeMutableBufferPointer { out in
                clip.withUnsafeBufferPointer { src in
                    out.baseAddress!.advanced(by: i * length).update(from: src.baseAddress!, count: n)
                }
            }
        }
        let audio = try Tensor(padded, shape: [clips.count, length]).to(window.device)
        return try features(audio)
    }

    /// The same from a (batch, samplesPerWindow) tensor.
    public func features(_ audio: Tensor) throws -> Tensor {
        let spectrum = try audio.stft(nFFT: config.nFFT, hop: config.hopLength, window: window)  // (B, F, T+1, 2)
        let frames = spectrum.size(2) - 1
        let power = try spectrum.narrow(2, 0, frames).square().sum(-1)  // (B, F, T): re² + im²
        let mel = try filters.matmul(power)  // (B, mels, T)
        let logSpec = try mel.clamp(min: 1e-10).log() / Foundation.log(10.0)
        let peak = try logSpec.max([1, 2], keepDim: true)
        return try (logSpec.maximum(peak - 8.0) + 4.0) / 4.0
    }
}
