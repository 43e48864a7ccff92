import Foundation
import Testing
@testable import Audio

@Suite struct ResamplerTests {
    private func tone(_ hertz: Double, rate: Double, seconds: Double) -> [Float] {
        (0 ..< Int(rate * seconds)).map { Float(0.5 * sin(2 * .pi * hertz * Double($0) / rate)) }
    }

    @Test(arguments: [44_100.0, 48_000.0, 16_000.0])
    func wholeBufferHasTheExpectedLengthAndKeepsATone(inputRate: Double) throws {
        let output = try Resampler.resample(tone(1_000, rate: inputRate, seconds: 1), from: inputRate, to: 24_000)
        #expect(output.count == 24_000)
        // Away from the edges the output is the same 1 kHz tone sampled at 24 kHz.
        let expected = tone(1_000, rate: 24_000, seconds: 1)
        let middle = 2_000 ..< 22_000
        #expect(maxAbsDifference(Array(output[middle]), Array(expected[middle])) < 1e-3)
    }

    @Test func removesWhatTheNewRateCannotHold() throws {
        // 15 kHz is above the 12 kHz Nyquist frequency of 24 kHz audio: the anti-alias filter must remove it.
        let output = try Resampler.resample(tone(15_000, rate: 48_000, seconds: 0.5), from: 48_000, to: 24_000)
        #expect(output[1_000 ..< 11_000].map(abs).max()! < 1e-3)
    }

    @Test func sameRateIsTheIdentity() throws {
        let input = tone(440, rate: 24_000, seconds: 0.1)
        #expect(try Resampler.resample(input, from: 24_000, to: 24_000) == input)
    }

    @Test func streamingInChunksEqualsTheWholeBuffer() throws {
        let input = tone(700, rate: 44_100, seconds: 0.5) + tone(3_000, rate: 44_100, seconds: 0.5)
        let whole = try Resampler.resample(input, from: 44_100, to: 24_000)
        let resampler = try Resampler(from: 44_100, to: 24_000)
        var streamed: [Float] = []
        var start = 0
        for size in [1, 7, 1_000, 4_410, 3, 10_000].cycled(toCover: input.count) {
            let end = min(start + size, input.count)
            streamed += try resampler.process(Array(input[start ..< end]))
            start = end
            if start == input.count { break }
        }
        streamed += try resampler.flush()
        #expect(abs(streamed.count - whole.count) <= 1)
        let common = min(streamed.count, whole.count)
        #expect(maxAbsDifference(Array(streamed[..<common]), Array(whole[..<common])) <= 1e-6)
    }

    @Test func resetStartsAFreshStream() throws {
        let input = tone(440, rate: 16_000, seconds: 0.2)
        let resampler = try Resampler(from: 16_000, to: 24_000)
        let first = try resampler.process(input) + resampler.flush()
        try resampler.reset()
        let second = try resampler.process(input) + resampler.flush()
        #expect(first == second)
        #expect(first.count == 4_800)
    }

    @Test func interleavedChannelsAreResampledIndependently() throws {
        let left = tone(500, rate: 48_000, seconds: 0.2)
        let right = tone(2_000, rate: 48_000, seconds: 0.2)
        let stereo = try Resampler.resample(zip(left, right).flatMap { [$0, $1] }, from: 48_000, to: 24_000, channels: 2)
        let leftAlone = try Resampler.resample(left, from: 48_000, to: 24_000)
        let rightAlone = try Resampler.resample(right, from: 48_000, to: 24_000)
        #expect(stereo.count == 2 * leftAlone.count)
        #expect(maxAbsDifference(stride(from: 0, to: stereo.count, by: 2).map { stereo[$0] }, leftAlone) <= 1e-6)
        #expect(maxAbsDifference(stride(from: 1, to: stereo.count, by: 2).map { stereo[$0] }, rightAlone) <= 1e-6)
    }

    @Test func qualityIsAnOption() throws {
        let input = tone(1_000, rate: 44_100, seconds: 0.2)
        let high = try Resampler.resample(input, from: 44_100, to: 24_000, quality: .high)
        let veryHigh = try Resampler.resample(input, from: 44_100, to: 24_000, quality: .veryHigh)
        #expect(high.count == veryHigh.count)
        #expect(high != veryHigh)  // a different filter really ran
        #expect(maxAbsDifference(high, veryHigh) < 1e-3)
    }

    @Test func rejectsNonsense() {
        #expect(throws: AudioError.self) { try Resampler(from: 0, to: 24_000) }
        #expect(throws: AudioError.self) { try Resampler(from: 44_100, to: 24_000, channels: 0) }
        #expect(throws: AudioError.self) { try Resampler.resample([1, 2, 3], from: 48_000, to: 24_000, channels: 2) }
    }
}

private extension Array {
    /// Repeats the sizes until they add up to at least `total`.
    func cycled(toCover total: Int) -> [Element] where Element == Int {
        var out: [Int] = []
        var sum = 0
        while sum < total { for size in self { out.append(size); sum += size } }
        return out
    }
}
