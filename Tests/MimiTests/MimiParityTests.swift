import Foundation
@testable import Mimi
import Testing
import Torch

/// Encode/decode against transformers' `MimiModel` on the tiny fixture.
@Suite struct MimiParityTests {
    @Test func signalMatchesPythonGenerator() throws {
        for c in MimiFixture.cases {
            let audio = MimiFixture.signal(c)
            #expect(Array(audio.prefix(4)) == Array(c.signalHead.prefix(audio.count)), "\(c.name)")
            let sum = audio.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - c.signalSum) < 1e-9 * max(1, abs(c.signalSum)), "\(c.name)")
        }
    }

    @Test(arguments: MimiFixture.cases.map(\.name))
    func encodeMatchesTransformers(name: String) throws {
        let c = MimiFixture.case(name)
        let model = MimiFixture.model
        let audio = try Tensor(MimiFixture.signal(c), shape: [1, 1, c.samples])
        let codes = try model.encode(audio)
        #expect(codes.shape == [1, 32, c.frames])
        #expect(model.encodedLength(c.samples) == c.frames)
        let ours = try codes.select(0, 0).toArray(Int.self)
        let theirs = try MimiFixture.codes(c).flatMap { $0 }
        let equal = zip(ours, theirs).filter { $0 == $1 }.count
        let fraction = Double(equal) / Double(theirs.count)
        #expect(fraction >= 0.999, "\(name): \(equal)/\(theirs.count) codes equal")
    }

    @Test func latentsMatchTransformers() throws {
        let c = MimiFixture.case("odd_37123")
        let audio = try Tensor(MimiFixture.signal(c), shape: [1, 1, c.samples])
        let ours = try withNoGrad { try MimiFixture.model.latents(audio) }.select(0, 0)
        let theirs = try MimiFixture.expected.tensor("odd_37123.latents")
        #expect(ours.shape == theirs.shape)
        let maxError = try (ours - theirs).abs().max().item()
        #expect(maxError < 1e-4, "max |Δ| = \(maxError)")
    }

    @Test(arguments: MimiFixture.cases.map(\.name))
    func decodeMatchesTransformers(name: String) throws {
        let c = MimiFixture.case(name)
        let codes = try MimiFixture.codes(c)
        let input = try Tensor(codes.flatMap { $0 }, shape: [1, codes.count, c.frames])
        let audio = try MimiFixture.model.decode(input)
        #expect(audio.shape == [1, 1, c.decodedSamples])
        let ours = try audio.flatten().slice(0, 0, c.decodedSamples, step: c.decodedStride)
        let theirs = try MimiFixture.expected.tensor("\(name).decoded")
        let maxError = try (ours - theirs).abs().max().item()
        #expect(maxError < 1e-4, "\(name): max |Δ| = \(maxError)")
    }
}
