import Audio
import Foundation
import Mimi
import Testing
import Torch
@testable import CSM

@Suite struct ContextFolderTests {
    /// A folder with `script` and a short tone for each listed wav name.
    func folder(_ script: String?, wavs: [String]) throws -> URL {
        let root = try Fixture.temporaryFolder()
        let segments = root.appendingPathComponent("segments")
        try FileManager.default.createDirectory(at: segments, withIntermediateDirectories: true)
        if let script { try Data(script.utf8).write(to: segments.appendingPathComponent("script.txt")) }
        let tone = (0..<4800).map { Float(0.3 * sin(Double($0) * 0.05)) }
        for name in wavs { try WAVWriter.write(tone, sampleRate: 24_000, to: segments.appendingPathComponent(name)) }
        return root
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test func readsContextAndTarget() throws {
        let root = try folder("[1]: Hello there.\n\n[2]:   How are you?  \n[1]: Fine, thanks.\n",
                              wavs: ["segment_0001_speaker1.wav", "segment_0002_speaker2.wav"])
        defer { try? FileManager.default.removeItem(at: root) }
        try GenerationPrompt.validateFolder(root)
        let f = try ContextFolder(root)
        #expect(f.context.map(\.speaker) == [0, 1])
        #expect(f.context.map(\.text) == ["Hello there.", "How are you?"])
        #expect(f.target.text == "Fine, thanks.")
        #expect(f.target.speaker == 0)
        #expect(f.target.audio == nil)
    }

    @Test func badFoldersSayWhatIsWrong() throws {
        let missing = try folder(nil, wavs: [])
        let malformed = try folder("[1]: ok\nspeaker two: hi\n", wavs: ["segment_0001_speaker1.wav"])
        let noWav = try folder("[1]: first\n[2]: second\n[1]: third\n", wavs: ["segment_0001_speaker1.wav"])
        let wrongSpeaker = try folder("[1]: first\n[2]: second\n", wavs: ["segment_0001_speaker2.wav"])
        let empty = try folder("\n\n", wavs: [])
        defer { for f in [missing, malformed, noWav, wrongSpeaker, empty] { try? FileManager.default.removeItem(at: f) } }
        #expect(message { try GenerationPrompt.validateFolder(missing) }.contains("script.txt is missing"))
        #expect(message { try GenerationPrompt.validateFolder(malformed) }.contains("line 2: 'speaker two: hi'"))
        #expect(message { try GenerationPrompt.validateFolder(noWav) }.contains("segment_0002_speaker2.wav for context line 2"))
        #expect(message { try GenerationPrompt.validateFolder(wrongSpeaker) }.contains("says [1]"))
        #expect(message { try GenerationPrompt.validateFolder(empty) }.contains("has no lines"))
    }

    /// The training hook: a wav named after the step, adapters' dropout restored, nothing recorded for autograd.
    @Test func trainingSampleWritesStepWav() throws {
        let model = try Fixture.model()
        try PEFTAdapter.load(Fixture.adapter, into: model)
        model.setTraining(true)
        let codec = try MimiModel.load(folder: Fixture.tiny)
        let out = try Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let url = try generateSample(model: model, codec: codec, prompt: Fixture.expected.cases[0].prompt, step: 42,
                                     outputDir: out, seed: 1, settings: GenerationSettings(), maxAudioSeconds: 0.8)
        #expect(url.lastPathComponent == "gen_step_000042.wav")
        let wav = try AudioFile.read(url)
        #expect(wav.sampleRate == 24_000)
        #expect(wav.frames > 0 && wav.frames <= 10 * 1920)
        #expect(model.loraAdapters.allSatisfy { $0.lora.training })
    }
}
