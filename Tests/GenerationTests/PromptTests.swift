import Foundation
import Testing
import Torch
@testable import CSM

@Suite struct PromptTests {
    @Test func promptTooLongIsRefusedUpFront() throws {
        let generator = Generator(model: try Fixture.model())
        let prompt = Fixture.expected.cases[1].prompt  // 35 positions; the tiny model has 256
        let limit = generator.model.config.backbone.maxPositionEmbeddings
        try generator.checkLength(prompt, frames: limit - prompt.length)
        do {
            _ = try generator.generate(prompt, options: .init(maxFrames: limit - prompt.length + 1))
            Issue.record("expected promptTooLong")
        } catch let error as GenerationError {
            guard case .promptTooLong(35, 222, 256) = error else { Issue.record("got \(error)"); return }
            #expect(error.description.contains("--max_audio_seconds"))
        }
    }

    @Test func layoutMatchesTheProcessor() throws {
        let ids = try Fixture.model().config.specialIds
        let c = Fixture.expected.cases[1]
        let layout = try c.prompt.layout(ids)
        var expected = [Int]()
        for t in c.context { expected += t.text_ids + Array(repeating: ids.audioTokenId, count: t.codes.count) + [ids.audioEosTokenId] }
        expected += c.target_text_ids
        #expect(layout.inputIds == expected)
        #expect(layout.count == c.prompt_length)
        #expect(layout.codes.last! == nil)
        #expect(layout.codes[c.context[0].text_ids.count + c.context[0].codes.count] == [0, 0, 0, 0])
        #expect(throws: GenerationError.self) { try GenerationPrompt(textIds: []).layout(ids) }
    }

    @Test func tenSecondsIs125Frames() {
        #expect(Generator.Options.frames(seconds: 10) == 125)
        #expect(Generator.Options.frames(seconds: 5) == 62)
        #expect(Generator.Options.frames(seconds: 0.01) == 1)
    }
}

extension PromptTests {
    /// A model whose heads are zero picks code 0 everywhere (argmax of equal logits): the first frame is the
    /// end-of-audio frame, generation stops there, and no audio frame remains.
    @Test func stopsAtTheAllZeroFrame() throws {
        let model = try Fixture.model()
        let lmHead = try #require(model.lmHead as? Linear)
        lmHead.weight = try Tensor.zeros(lmHead.weight.shape)
        model.depthDecoder.codebooksHead.weight = try Tensor.zeros(model.depthDecoder.codebooksHead.weight.shape)
        let out = try Generator(model: model).generate(
            Fixture.expected.cases[0].prompt,
            options: .init(maxFrames: 10, settings: GenerationSettings(backbone: .greedy, depthDecoder: .greedy)))
        #expect(out.frames == [[0, 0, 0, 0]])
        #expect(out.stoppedAtEnd)
        #expect(out.audioFrames.isEmpty)
    }
}
