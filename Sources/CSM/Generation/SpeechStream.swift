import Foundation
import Mimi
import Torch

/// Generated frames → 24 kHz audio while generation runs: frames are gathered into chunks of `chunkFrames` and
/// each chunk goes through `MimiStreamingDecoder` (the codec's conv states and transformer cache carried between
/// chunks), so the audio handed to `onAudio` equals, chunk after chunk, the matching samples of `Speech.decode`
/// of all the frames (within float rounding, 1e-4; see MimiStreamingTests).
///
/// Smaller chunks mean earlier audio; larger ones fewer, more efficient decoder calls (BENCHMARKS.md has both).
public final class SpeechStream {
    public let chunkFrames: Int
    public let decoder: MimiStreamingDecoder
    public var sampleRate: Int { decoder.model.config.samplingRate }
    /// Codes outside the codec's range decoded as 0, as `Speech.Audio.replacedCodes`.
    public private(set) var replacedCodes = 0
    /// Samples handed to `onAudio` so far.
    public private(set) var samples = 0
    /// Seconds from this stream's creation to the first audio handed on (nil until then).
    public private(set) var timeToFirstAudio: TimeInterval?
    private let onAudio: ([Float]) throws -> Void
    private var pending: [[Int]] = []
    private let created = Date()

    /// `onAudio` gets each chunk's samples (mono, `sampleRate`), in order.
    public init(codec: MimiModel, chunkFrames: Int, onAudio: @escaping ([Float]) throws -> Void) throws {
        guard chunkFrames > 0 else {
            throw GenerationError.invalidSetting("the frames per streamed chunk must be > 0, got \(chunkFrames)")
        }
        self.chunkFrames = chunkFrames
        decoder = try MimiStreamingDecoder(model: codec)
        self.onAudio = onAudio
    }

    /// One generated audio frame (K codes); decodes and hands on a chunk once `chunkFrames` have gathered.
    public func append(_ frame: [Int]) throws {
        pending.append(frame)
        if pending.count == chunkFrames { try flush() }
    }

    /// Decodes and hands on the frames gathered so far (a last chunk shorter than `chunkFrames`).
    public func finish() throws { try flush() }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        let (codes, replaced) = try Speech.codes(pending, codebookSize: decoder.model.config.codebookSize)
        pending.removeAll(keepingCapacity: true)
        replacedCodes += replaced
        let audio = try decoder.decode(codes).to(.cpu).reshape([-1]).toArray(Float.self)
        if timeToFirstAudio == nil { timeToFirstAudio = Date().timeIntervalSince(created) }
        samples += audio.count
        try onAudio(audio)
    }
}
