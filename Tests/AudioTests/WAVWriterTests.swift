import Foundation
import Testing
@testable import Audio

@Suite struct WAVWriterTests {
    private let noise: [Float] = {
        var generator = SystemRandomNumberGenerator()
        return (0 ..< 3_000).map { _ in Float.random(in: -1 ... 1, using: &generator) }
    }()

    @Test func float32RoundTripIsExact() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("float.wav")
        try WAVWriter.write(noise, sampleRate: 24_000, channels: 3, encoding: .float32, to: url)
        let file = try AudioFile.read(url)
        #expect(file.samples == noise)
        #expect(file.sampleRate == 24_000 && file.channels == 3 && file.frames == 1_000)
        #expect(file.format.container.hasPrefix("WAV"))
        #expect(file.format.encoding.contains("32 bit float"))
    }

    @Test func pcm16RoundTripIsWithinOneStep() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("pcm16.wav")
        try WAVWriter.write(noise, sampleRate: 16_000, encoding: .pcm16, to: url)
        let file = try AudioFile.read(url)
        #expect(file.channels == 1 && file.frames == noise.count)
        #expect(file.format.encoding.contains("16 bit PCM"))
        // libsndfile writes x·32767 rounded and reads n/32768: at most half a step plus the scale mismatch.
        #expect(maxAbsDifference(file.samples, noise) <= 0.5 / 32_767 + 1.0 / 32_768)
        #expect(maxAbsDifference(file.samples, noise) > 0)  // it really was quantised
    }

    @Test func pcm16ClipsInsteadOfWrapping() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("loud.wav")
        try WAVWriter.write([1.5, -1.5, 0.5], sampleRate: 8_000, encoding: .pcm16, to: url)
        let samples = try AudioFile.read(url).samples
        #expect(samples[0] > 0.999 && samples[1] <= -0.999 && abs(samples[2] - 0.5) < 1e-4)
    }

    @Test func replacesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.wav")
        try WAVWriter.write([0.1, 0.2], sampleRate: 8_000, to: url)
        try WAVWriter.write([0.25, 0.5, 0.75], sampleRate: 8_000, encoding: .float32, to: url)
        #expect(try AudioFile.read(url).samples == [0.25, 0.5, 0.75])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.wav"])
    }

    @Test func refusesBadInputNamingTheFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("bad.wav")
        for (samples, channels) in [([Float.nan, 0], 1), ([0, 0, 0], 2)] {
            let error = #expect(throws: AudioError.self) {
                try WAVWriter.write(samples, sampleRate: 8_000, channels: channels, to: url)
            }
            #expect(error?.description.hasPrefix(url.path) == true)
        }
        let missingDirectory = directory.appendingPathComponent("no/such/dir/out.wav")
        let error = #expect(throws: AudioError.self) { try WAVWriter.write([0], sampleRate: 8_000, to: missingDirectory) }
        #expect(error?.description.contains("out.wav") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
