import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

@Suite struct SamplingTests {
    static let sampling = Sampling(doSample: true, temperature: 1.0, topK: 20)
    static var settings: GenerationSettings { GenerationSettings(backbone: sampling, depthDecoder: sampling) }

    func frames(seed: UInt64) throws -> [[Int]] {
        let prompt = Fixture.expected.cases[1].prompt
        return try Generator(model: try Fixture.model()).generate(
            prompt, options: .init(maxFrames: 12, settings: Self.settings, seed: seed)).frames
    }

    @Test func sameSeedSameCodesDifferentSeedsDiffer() throws {
        let a = try frames(seed: 1), b = try frames(seed: 1), c = try frames(seed: 2)
        #expect(a == b)
        #expect(a != c)
        // top-k 20 over 67 codes: sampling really leaves the argmax path of the fixture
        #expect(a != Array(Fixture.expected.cases[1].frames.prefix(a.count)))
    }

    @Test func generatingLeavesTorchRandomStreamAlone() throws {
        Runtime.manualSeed(5)
        let expected = try Tensor.rand([4]).toArray(Float.self)
        Runtime.manualSeed(5)
        _ = try frames(seed: 3)
        #expect(try Tensor.rand([4]).toArray(Float.self) == expected)
    }

    /// TopKLogitsWarper keeps every score equal to the k-th largest; the rest get probability 0.
    @Test func topKKeepsTiesAndDropsTheRest() throws {
        let logits = try Tensor([Float(1), 3, 2, 3, 0.5], shape: [5])
        var rng = SeededRandom(seed: 9)
        var seen = Set<Int>()
        for _ in 0..<400 {
            seen.insert(try TokenSampler.sample(logits, Sampling(doSample: true, temperature: 0.7, topK: 2), rng: &rng))
        }
        #expect(seen == [1, 3])
        var counts = [0, 0, 0]
        for _ in 0..<3000 {
            counts[try TokenSampler.sample(logits, Sampling(doSample: true, temperature: 2, topK: 3), rng: &rng) - 1] += 1
        }
        // softmax([3, 2, 3] / 2): 0.384, 0.233, 0.384
        #expect(parity("SamplingTests.top_k_frequency", abs(Double(counts[1]) / 3000 - 0.2327), Tolerance.sampledFrequency))
        #expect(try TokenSampler.sample(logits, .greedy, rng: &rng) == 1)
    }

    @Test func settingsFromGenerationConfig() throws {
        let folder = try Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try GenerationSettings.load(folder: folder) == GenerationSettings())  // no file: CSM-1B's defaults
        let json = #"{"do_sample": true, "top_k": 30, "temperature": 0.7, "depth_decoder_do_sample": false}"#
        try Data(json.utf8).write(to: folder.appendingPathComponent("generation_config.json"))
        let s = try GenerationSettings.load(folder: folder)
        #expect(s.backbone == Sampling(doSample: true, temperature: 0.7, topK: 30))
        #expect(s.depthDecoder == Sampling(doSample: false, temperature: 0.9, topK: 50))
        let o = try s.overriding(temperature: 1.2, topK: nil)
        #expect(o.depthDecoder == Sampling(doSample: true, temperature: 1.2, topK: 50))
        #expect(throws: GenerationError.self) { try s.overriding(temperature: 0, topK: nil) }
        #expect(throws: GenerationError.self) { try s.overriding(temperature: nil, topK: -1) }
    }
}
