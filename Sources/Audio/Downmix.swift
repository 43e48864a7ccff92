/// Mono as the mean of the channels, frame by frame: sum in channel order, then divide (as `numpy.mean` does).
public func downmixToMono(_ interleaved: [Float], channels: Int) -> [Float] {
    precondition(channels > 0 && interleaved.count % channels == 0, "interleaved samples must be whole frames")
    if channels == 1 { return interleaved }
    let frames = interleaved.count / channels
    let divisor = Float(channels)
    return interleaved.withUnsafeBufferPointer { x in
        [Float](unsafeUninitializedCapacity: frames) { mono, count in
            for f in 0 ..< frames {
                var sum: Float = 0
                for c in 0 ..< channels { sum += x[f * channels + c] }
                mono[f] = sum / divisor
            }
            count = frames
        }
    }
}
