import Foundation
@testable import CSM
import Mimi
import Testing
import Torch
import TestSupport
import Tokenizer

/// `Generator.generate(_:options:streamingTo:)` on the demo CSM (its own codec): the audio handed on chunk by chunk
/// equals `Speech.decode` of the frames the same seed generates, and the end-of-audio frame is never decoded.
@Suite struct SpeechStreamTests {
    static let demo = fixturesFolder.appendingPathComponent("demo-model")

    @Test func streamedSpeechEqualsTheWholeClipDecode() throws {
        let model = try CSMForConditionalGeneration.load(folder: Self.demo)
        let codec = try MimiModel.load(folder: Self.demo)
        let layout = try TurnLayout(tokenizer: Tokenizer(folder: Self.demo))
        let prompt = try GenerationPrompt(text: "Hello world, streamed.", speaker: 0, layout: layout)
        let options = Generator.Options(maxFrames: 30, seed: 11)
        let generator = Generator(model: model)
        let reference = try generator.generate(prompt, options: options)
        let whole = try Speech.decode(reference.audioFrames, codec: codec)
        for chunk in [1, 4, 30, 64] {
            var samples: [Float] = [], calls = 0
            let stream = try SpeechStream(codec: codec, chunkFrames: chunk) { samples += $0; calls += 1 }
            let out = try generator.generate(prompt, options: options, streamingTo: stream)
            #expect(out.frames == reference.frames, "the same seed generates the same frames")
            #expect(calls == (out.audioFrames.count + chunk - 1) / chunk)
            #expect(samples.count == whole.samples.count && stream.samples == samples.count)
            #expect(stream.replacedCodes == whole.replacedCodes && stream.timeToFirstAudio != nil)
            let difference = zip(samples, whole.samples).map { Double(abs($0 - $1)) }.max() ?? .infinity
            #expect(parity("SpeechStreamTests.chunks_\(chunk)", difference, Tolerance.streamed))
        }
    }

    @Test func endOfAudioFrameIsNotStreamed() throws {
        let model = try CSMForConditionalGeneration.load(folder: Self.demo)
        let stream = try SpeechStream(codec: MimiModel.load(folder: Self.demo), chunkFrames: 2) { _ in }
        let eos = [Int](repeating: model.config.codebookEosTokenId, count: model.config.numCodebooks)
        #expect(Generator(model: model).isEndOfAudio(eos))
        #expect(throws: GenerationError.self) { try SpeechStream(codec: stream.decoder.model, chunkFrames: 0) { _ in } }
    }
}
