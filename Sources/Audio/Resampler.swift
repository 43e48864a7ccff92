import CAudio

/// A libsoxr stream resampler over interleaved float samples.
///
/// Whole buffers: `Resampler.resample(x, from:to:)`, which reproduces the Python `soxr.resample` exactly (same
/// recipe, same I/O types, same chunking and output length). Streams: `process(_:)` each chunk as it arrives, then
/// `flush()` once for the filter's tail.
public final class Resampler {
    public let inputRate: Double
    public let outputRate: Double
    public let channels: Int
    public let quality: ResampleQuality
    private let soxr: soxr_t

    public init(from inputRate: Double, to outputRate: Double, channels: Int = 1,
                quality: ResampleQuality = .high) throws {
        guard inputRate > 0, outputRate > 0, inputRate.isFinite, outputRate.isFinite else {
            throw AudioError.invalidArgument("resampler: sample rates must be positive (got \(inputRate) → \(outputRate))")
        }
        guard channels > 0 else { throw AudioError.invalidArgument("resampler: channel count must be positive") }
        // What python-soxr passes: float32 interleaved in and out, the recipe with no flags, default runtime.
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var spec = soxr_quality_spec(quality.recipe, 0)
        var error: soxr_error_t? = nil
        let handle = soxr_create(inputRate, outputRate, UInt32(channels), &error, &io, &spec, nil)
        guard let handle, error == nil else {
            if let handle { soxr_delete(handle) }
            throw AudioError.resampler(error.map { String(cString: $0) } ?? "soxr_create failed")
        }
        self.soxr = handle
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.channels = channels
        self.quality = quality
    }

    deinit { soxr_delete(soxr) }

    /// Resamples one chunk of a stream; returns the output that is ready (the filter holds back its delay).
    public func process(_ input: [Float]) throws -> [Float] {
        try checkWholeFrames(input)
        guard !input.isEmpty else { return [] }  // soxr reads a null input pointer as end-of-stream
        let frames = input.count / channels
        var output: [Float] = []
        try input.withUnsafeBufferPointer { source in
            var consumed = 0
            while true {
                // Room for this chunk plus what earlier chunks left buffered; loop again if it fills.
                let room = Int((Double(frames - consumed) * outputRate / inputRate).rounded(.up)) + 1024
                var used = 0
                let made = try append(room, to: &output) { out, made in
                    soxr_process(soxr, source.baseAddress! + consumed * channels, frames - consumed, &used,
                                 out, room, &made)
                }
                consumed += used
                if consumed == frames && made < room { break }
                if used == 0 && made == 0 { throw AudioError.resampler("soxr_process made no progress") }
            }
        }
        return output
    }

    /// Ends the stream: returns the filter's remaining output. Call `reset()` before reusing the resampler.
    public func flush() throws -> [Float] {
        var output: [Float] = []
        let room = 4096
        while true {
            // A null input pointer is soxr's end-of-stream signal; keep draining while the buffer comes back full.
            let made = try append(room, to: &output) { out, made in soxr_process(soxr, nil, 0, nil, out, room, &made) }
            if made < room { break }
        }
        return output
    }

    /// Ready for a new, unrelated stream with the same settings.
    public func reset() throws {
        if let error = soxr_clear(soxr) { throw AudioError.resampler(String(cString: error)) }
    }

    /// The whole of `input` (interleaved) at the new rate, exactly as Python's `soxr.resample(x, from, to, quality)`.
    public static func resample(_ input: [Float], from inputRate: Double, to outputRate: Double, channels: Int = 1,
                                quality: ResampleQuality = .high) throws -> [Float] {
        let resampler = try Resampler(from: inputRate, to: outputRate, channels: channels, quality: quality)
        try resampler.checkWholeFrames(input)
        let frames = input.count / channels
        // python-soxr's csoxr_divide_proc: output capped at ilen·out/in + 1 frames, input fed 48000·in/out frames
        // at a time (soxr's cost grows with one huge call). Same numbers so outputs have the same length.
        let capacity = Int(Double(frames) * outputRate / inputRate + 1)
        let chunk = Int(max(1000, 48000 * inputRate / outputRate))
        var output = [Float](repeating: 0, count: capacity * channels)
        var written = 0
        try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { out in
                for start in stride(from: 0, to: frames, by: chunk) {
                    var made = 0
                    try check(soxr_process(resampler.soxr, source.baseAddress! + start * channels,
                                           min(chunk, frames - start), nil,
                                           out.baseAddress! + written * channels, capacity - written, &made))
                    written += made
                }
                var made = 0
                try check(soxr_process(resampler.soxr, nil, 0, nil, out.baseAddress! + written * channels,
                                       capacity - written, &made))
                written += made
            }
        }
        output.removeLast((capacity - written) * channels)
        return output
    }

    /// Grows `output` by `room` frames, lets `body` fill some, trims the rest; returns the frames made.
    private func append(_ room: Int, to output: inout [Float],
                        _ body: (UnsafeMutablePointer<Float>, inout Int) -> soxr_error_t?) throws -> Int {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: room * channels))
        var made = 0
        let error = output.withUnsafeMutableBufferPointer { body($0.baseAddress! + start, &made) }
        output.removeLast((room - made) * channels)
        try Self.check(error)
        return made
    }

    private func checkWholeFrames(_ input: [Float]) throws {
        guard input.count % channels == 0 else {
            throw AudioError.invalidArgument("resampler: \(input.count) samples is not a whole number of \(channels)-channel frames")
        }
    }

    private static func check(_ error: soxr_error_t?) throws {
        if let error { throw AudioError.resampler(String(cString: error)) }
    }
}
