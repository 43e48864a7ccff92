import CTorch

/// Signal processing (torch.stft).
extension Tensor {
    /// `torch.stft(self, nFFT, hop, window: window, center: center, pad_mode: padMode, return_complex: True)` on
    /// (…, time), as real and imaginary parts: (…, nFFT / 2 + 1, frames, 2). One-sided, not normalized.
    public func stft(nFFT: Int, hop: Int, window: Tensor?, center: Bool = true, padMode: PadMode = .reflect) throws -> Tensor {
        try wrap(ct_stft(handle, Int64(nFFT), Int64(hop), window?.handle, center ? 1 : 0, padMode.rawValue))
    }
}
