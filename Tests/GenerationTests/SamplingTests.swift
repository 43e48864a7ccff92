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
            seen.insert(try TokenSampler.sample(logits, Sampling(doSample: true, temperature: 0.7, topK: 2), rng: &rng).itemInt())
        }
        #expect(seen == [1, 3])
        var counts = [0, 0, 0]
        for _ in 0..<3000 {
            counts[try TokenSampler.sample(logits, Sampling(doSample: true, temperature: 2, topK: 3), rng: &rng).itemInt() - 1] += 1
        }
        // softmax([3, 2, 3] / 2): 0.384, 0.233, 0.384
        #expect(parity("SamplingTests.top_k_frequency", abs(Double(counts[1]) / 3000 - 0.2327), Tolerance.sampledFrequency))
        #expect(try TokenSampler.sample(logits, .greedy, rng: &rng).itemInt() == 1)
    }

    /// The draw on the device picks what the host's inverse CDF picks, bit for bit on the CPU: probability rows
    /// with zeros (top-k), a row that is one spike, uniforms at 0, at the largest below 1 and in between.
    @Test func deviceDrawEqualsHostDraw() throws {
        var rng = SeededRandom(seed: 11)
        var rows: [[Float]] = [[0, 0, 1, 0], [0.25, 0, 0.25, 0.5], [1e-30, 0, 0, 0]]
        for n in [5, 67, 2051] {
            for keep in [1, 3, n] {
                let logits = (0..<n).map { _ in Float(rng.unit() * 8 - 4) }
                let scores = try Tensor(logits)
                let kth = try scores.topk(keep).values.narrow(-1, keep - 1, 1)
                rows.append(try scores.maskedFill(scores.lt(kth), -.infinity).softmax(-1).toArray(Float.self))
            }
        }
        let uniforms = [0, 1 - 0x1p-53, 0.5] + (0..<40).map { _ in rng.unit() }
        for row in rows {
            let probs = try Tensor(row)
            // and uniforms that land on running sums (u · total == a running sum: the boundary between two codes)
            let total = row.reduce(0.0) { $0 + Double($1) }
            var sums: [Double] = [], running = 0.0
            for p in row.prefix(8) { running += Double(p); sums.append(running / total) }
            for u in uniforms + sums.filter({ $0 < 1 }) {
                #expect(try TokenSampler.draw(probs, u: u).itemInt() == TokenSampler.hostDraw(row, u: u))
            }
        }
    }

    /// Seeded sampling on the device gives the frames the host-side sampler gave (replayed here as before: codes read
    /// back one by one, drawn by `hostDraw`, growing caches), so a seed keeps its audio; and twice the same frames.
    @Test(arguments: [Sampling(doSample: true, temperature: 1.0, topK: 20), .csmDefault, .greedy])
    func sameFramesAsHostSampling(_ sampling: Sampling) throws {
        let model = try Fixture.model()
        let prompt = Fixture.expected.cases[0].prompt
        let settings = GenerationSettings(backbone: sampling, depthDecoder: sampling)
        for seed: UInt64 in [1, 2] {
            let options = Generator.Options(maxFrames: 10, settings: settings, seed: seed)
            let device = try Generator(model: model).generate(prompt, options: options).frames
            #expect(device == (try Fixture.hostSampledFrames(model, prompt, options: options)))
            #expect(device == (try Generator(model: model).generate(prompt, options: options).frames))
        }
    }

    /// One read back to the host per frame (its codes) and no tensor built from host values after the prompt; the
    /// host sampler read every code (K per frame) and uploaded each one back.
    @Test func oneHostReadPerFrame() throws {
        let model = try Fixture.model()
        let prompt = Fixture.expected.cases[1].prompt
        func transfers(_ frames: Int) throws -> (frames: Int, reads: Int, fromHost: Int) {
            let (out, counted) = try HostTransfers.counting {
                try Generator(model: model).generate(prompt, options: .init(maxFrames: frames, settings: Self.settings, seed: 4))
            }
            return (out.frames.count, counted.reads, counted.fromHost)
        }
        let short = try transfers(2), long = try transfers(12)
        #expect(short.frames == 2 && long.frames == 12)
        #expect(short.reads == 2 && long.reads == 12)
        #expect(long.fromHost == short.fromHost)
        let k = model.config.numCodebooks
        let (_, host) = try HostTransfers.counting {
            try Fixture.hostSampledFrames(model, prompt, options: .init(maxFrames: 12, settings: Self.settings, seed: 4))
        }
        print("SYNCS per frame: device sampling \(Double(long.reads) / 12) reads, host sampling "
              + "\(Double(host.reads) / 12) reads + \(Double(host.fromHost) / 12) host-built tensors (K = \(k))")
        #expect(host.reads == 12 * k)
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
