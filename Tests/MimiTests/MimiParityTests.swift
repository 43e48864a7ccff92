import Foundation
@testable import Mimi
import Testing
import Torch
import TestSupport

/// Encode/decode against transformers' `MimiModel` on the tiny fixture.
@Suite struct MimiParityTests {
    @Test func signalMatchesPythonGenerator() throws {
        for c in MimiFixture.cases {
            let audio = MimiFixture.signal(c)
            #expect(Array(audio.prefix(4)) == Array(c.signalHead.prefix(audio.count)), "\(c.name)")
            let sum = audio.reduce(0.0) { $0 + Double($1) }
            #expect(parity("MimiParityTests.\(c.name).signal_sum", abs(sum - c.signalSum) / max(1, abs(c.signalSum)),
                           Tolerance.signalSum))
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
        #expect(parity("MimiParityTests.\(name).code_mismatch", 1 - Double(equal) / Double(theirs.count), Tolerance.codeMismatch),
                "\(name): \(equal)/\(theirs.count) codes equal")

    }

    @Test func latentsMatchTransformers() throws {
        let c = MimiFixture.case("odd_37123")
        let audio = try Tensor(MimiFixture.signal(c), shape: [1, 1, c.samples])
        let ours = try withNoGrad { try MimiFixture.model.latents(audio) }.select(0, 0)
        let theirs = try MimiFixture.expected.tensor("odd_37123.latents")
        #expect(ours.shape == theirs.shape)
        #expect(parity("MimiParityTests.odd_37123.latents", try (ours - theirs).abs().max().item(), Tolerance.latents))
        // How close that difference comes to flipping a code (the codes are argmins over codeword distances).
        let margins = try MimiFixture.codeMarginUse(MimiFixture.model, latents: ours.unsqueeze(0), reference: theirs.unsqueeze(0))
        print("Mimi odd_37123: smallest distance gap \(margins.smallestGap) of the nearest codeword's squared distance")
        #expect(parity("MimiParityTests.odd_37123.code_margin_used", margins.worstUse, Tolerance.codeMarginUsed))
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
        #expect(parity("MimiParityTests.\(name).decoded", try (ours - theirs).abs().max().item(), Tolerance.decoded))
    }
}
