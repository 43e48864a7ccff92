import Foundation
import Testing
import Torch
@testable import CSM

/// Frames equal transformers' `generate` on the tiny fixture (top-k 1: the argmax, whatever the random stream).
/// Exact equality of codes is robust across CPUs because every argmax has a clear margin (checked here).
@Suite struct GenerationParityTests {
    static let settings: GenerationSettings = {
        let s = Sampling(doSample: true, temperature: Fixture.expected.temperature, topK: Fixture.expected.top_k)
        return GenerationSettings(backbone: s, depthDecoder: s)
    }()

    @Test(arguments: Fixture.expected.cases.map(\.name))
    func topK1MatchesTransformers(_ name: String) throws {
        let c = Fixture.expected.cases.first { $0.name == name }!
        #expect(c.frames.count >= 20)
        let model = try Fixture.model()
        let generator = Generator(model: model)
        #expect(c.prompt.length == c.prompt_length)
        let out = try generator.generate(c.prompt, options: .init(maxFrames: Fixture.expected.max_new_tokens,
                                                                   settings: Self.settings, seed: 7))
        #expect(out.frames == c.frames)
        #expect(!out.stoppedAtEnd)
        #expect(parityMargin("GenerationParityTests.\(name).argmax_margin",
                             try Fixture.argmaxMargin(model, c.prompt, frames: c.frames), Tolerance.argmaxMargin))
    }

    @Test func greedyEqualsTopK1() throws {
        let c = Fixture.expected.cases[0]
        let out = try Generator(model: try Fixture.model()).generate(
            c.prompt, options: .init(maxFrames: 20, settings: GenerationSettings(backbone: .greedy, depthDecoder: .greedy)))
        #expect(out.frames == Array(c.frames.prefix(20)))
    }
}
