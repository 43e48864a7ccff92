import Foundation
import Testing
@testable import Audio

/// `WAVStreamWriter`: a valid WAV of everything appended so far after every append, and at the end the same bytes
/// as `WAVWriter` writes for the whole clip at once.
@Suite struct WAVStreamWriterTests {
    /// A ramp past ±1 (clipped) with a sine on it: deterministic, every 16-bit rounding case.
    private let samples: [Float] = (0 ..< 4_801).map { i in Float(i - 2_400) / 2_000 + 0.1 * Float(sin(Double(i) / 7)) }

    @Test func everyAppendLeavesAValidWavAndTheEndMatchesWAVWriter() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let streamed = directory.appendingPathComponent("streamed.wav")
        let whole = directory.appendingPathComponent("whole.wav")
        let writer = try WAVStreamWriter(.file(streamed), sampleRate: 24_000)
        var start = 0
        for size in [1, 1_920, 7, 2_873] {  // uneven pieces, 4,801 samples in all
            try writer.append(Array(samples[start ..< start + size]))
            start += size
            let sofar = try AudioFile.read(streamed)  // read while the writer is still open
            #expect(sofar.frames == start && sofar.sampleRate == 24_000 && sofar.channels == 1)
        }
        try writer.finish()
        #expect(writer.frames == samples.count)
        try WAVWriter.write(samples, sampleRate: 24_000, encoding: .pcm16, to: whole)
        #expect(try Data(contentsOf: streamed) == Data(contentsOf: whole))
        #expect(throws: AudioError.self) { try writer.append([0]) }
    }

    @Test func abandonRemovesThePartialFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("partial.wav")
        let writer = try WAVStreamWriter(.file(url), sampleRate: 24_000)
        try writer.append(Array(samples.prefix(100)))
        writer.abandon()
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func nonFiniteSamplesAreRefused() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try WAVStreamWriter(.file(directory.appendingPathComponent("nan.wav")), sampleRate: 24_000)
        #expect(throws: AudioError.self) { try writer.append([0, .nan]) }
        #expect(writer.frames == 0)
        writer.abandon()
    }
}
