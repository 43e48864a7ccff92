/// What a file's header says: enough to filter by duration without decoding.
public struct AudioInfo: Equatable, Sendable {
    public let sampleRate: Int
    public let channels: Int
    /// Frames (one sample per channel) in the file.
    public let frames: Int
    public let format: AudioFormat

    public var duration: Double { Double(frames) / Double(sampleRate) }
}
