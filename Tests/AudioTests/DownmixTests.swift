import Foundation
import Testing
@testable import Audio

@Suite struct DownmixTests {
    @Test func monoIsTheChannelMeanOfEachFrame() {
        let stereo: [Float] = [1, 0, 0.5, -0.5, 0.25, 0.75]
        #expect(downmixToMono(stereo, channels: 2) == [0.5, 0, 0.5])
        let threeChannels: [Float] = [0.3, 0.6, 0.9, -1, 0, 1]
        #expect(downmixToMono(threeChannels, channels: 3) == [(0.3 + 0.6 + 0.9) / 3, 0])
        #expect(downmixToMono([0.1, 0.2], channels: 1) == [0.1, 0.2])
    }

    /// End to end through a file: left and right are different tones, the mono read is their mean exactly
    /// (float WAV, so decoding is lossless).
    @Test func fileDownmixIsTheMeanOfItsChannels() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let frames = 1_000
        let left = (0 ..< frames).map { Float(sin(Double($0) * 0.05)) * 0.8 }
        let right = (0 ..< frames).map { Float(cos(Double($0) * 0.31)) * 0.4 }
        let interleaved = zip(left, right).flatMap { [$0, $1] }
        let url = directory.appendingPathComponent("stereo.wav")
        try WAVWriter.write(interleaved, sampleRate: 16_000, channels: 2, encoding: .float32, to: url)

        let file = try AudioFile.read(url)
        #expect(file.channels == 2)
        #expect(file.monoSamples == zip(left, right).map { ($0 + $1) / 2 })
    }
}
