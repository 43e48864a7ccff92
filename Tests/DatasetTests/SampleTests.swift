import CSM
import Foundation
import Testing
@testable import Dataset

@Suite struct SampleConstructionTests {
    /// Code the fake codec gives a wav of amplitude `peak`.
    func code(_ peak: Float) -> Int { Int((peak * 100).rounded()) }

    @Test func contextIsThePrecedingKeptSegments() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        try corpus.good("en", "a", peaks: [0.11, 0.12, 0.13, 0.14, 0.15])
        try corpus.good("en", "b", peaks: [0.21, 0.22])
        // Segment 3 of `a` becomes too short: the context of 4 and 5 must jump over it.
        try corpus.wav("en", "a", "003_speaker1.wav", seconds: 0.1, peak: 0.13)
        let out = corpus.root.appendingPathComponent("_out")
        try makePreprocessor(corpus, contextTurns: 2).run(output: out)

        let data = try PreprocessedDataset(out)
        let samples = try data.samples()
        let peaks = samples.map { $0.turns.map { $0.codes[0][0] } }
        #expect(peaks == [[11], [11, 12], [11, 12, 14], [12, 14, 15], [21], [21, 22]].map { $0.map { $0 } })
        // Lower context at read time, without re-encoding.
        #expect(try data.samples(contextTurns: 0).map { $0.turns.count } == [1, 1, 1, 1, 1, 1])
        #expect(try data.sample(3, contextTurns: 1).turns.map { $0.codes[0][0] } == [14, 15])
        #expect(throws: DatasetError.self) { try data.samples(contextTurns: 3) }

        // Turns carry the tokenizer's ids, speaker ids 0-based, one code row per 1920 samples.
        let turn = samples[1].turns[1]
        #expect(turn.speaker == 1)
        #expect(turn.textIds == (try FakeTokenizer().turnIds(speaker: 1, text: "line 2 of a")))
        #expect(turn.codes.count == 13 && turn.codes[0] == [12, 13, 14, 15])  // ceil(24000 / 1920)
        #expect(try data.length(3) == samples[3].turns.reduce(0) { $0 + $1.textIds.count + $1.codes.count + 1 })

        // Labels as the processor: every audio frame and audio end of every turn.
        let ids = CSMSpecialIds(audioTokenId: 2000, audioEosTokenId: 2001, codebookEosTokenId: 0, numCodebooks: 4)
        let layout = try samples[2].layout(ids)
        #expect(layout.labelledFrames == samples[2].frameCount + 3)
    }

    @Test func segmentsAreStoredOnceAndEncodedInBatches() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        try corpus.good("en", "a", peaks: [0.11, 0.12, 0.13, 0.14, 0.15, 0.16])
        let codec = FakeCodec()
        let p = makePreprocessor(corpus, codec: codec)
        p.batchSamples = 24_000 * 4  // 4 one-second clips per call
        try p.run(output: corpus.root.appendingPathComponent("_out"))
        #expect(codec.calls.map(\.count) == [4, 2])
        let shard = try SegmentShard(contentsOf: corpus.root.appendingPathComponent("_out/shards/en/a.safetensors"))
        #expect(shard.count == 6 && shard.codes.count == 6 * 13 * 4)
    }
}

@Suite struct ResumeTests {
    struct Crash: Error {}

    @Test func interruptedRunResumesToIdenticalOutput() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        for (i, name) in ["a", "b", "c", "d"].enumerated() {
            try corpus.good("en", name, peaks: [0.1, 0.2, 0.3].map { $0 + Float(i) / 100 })
        }
        try corpus.script("en", "e", "[1]: lonely\n")  // a skipped conversation is resumed too
        let clean = corpus.root.appendingPathComponent("_clean")
        try makePreprocessor(corpus).run(output: clean)

        let resumed = corpus.root.appendingPathComponent("_resumed")
        let first = makePreprocessor(corpus)
        first.afterConversation = { if $0 == 1 { throw Crash() } }
        #expect(throws: Crash.self) { try first.run(output: resumed) }
        #expect(!FileManager.default.fileExists(atPath: resumed.appendingPathComponent("manifest.json").path))
        // What a kill -9 in the middle of the next shard would leave behind.
        try Data("half a shard".utf8).write(to: resumed.appendingPathComponent("shards/en/.c.safetensors.tmp-1-2"))

        let codec = FakeCodec()
        try makePreprocessor(corpus, codec: codec).run(output: resumed)
        #expect(codec.calls.count == 2)  // only c and d were encoded again
        #expect(try snapshot(resumed) == (try snapshot(clean)))

        // Running again with the same arguments skips every finished conversation.
        let idle = FakeCodec()
        try makePreprocessor(corpus, codec: idle).run(output: resumed)
        #expect(idle.calls.isEmpty)
        #expect(try snapshot(resumed) == (try snapshot(clean)))
    }

    @Test func changedFilesAreRedone() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        try corpus.good("en", "a", peaks: [0.1, 0.2])
        let out = corpus.root.appendingPathComponent("_out")
        try makePreprocessor(corpus).run(output: out)
        try corpus.wav("en", "a", "002_speaker2.wav", seconds: 2, peak: 0.25)
        let codec = FakeCodec()
        try makePreprocessor(corpus, codec: codec).run(output: out)
        #expect(codec.calls.count == 1)
        #expect(try PreprocessedDataset(out).samples()[1].turns[1].codes[0][0] == 25)
    }

    @Test func changedArgumentsOrModelAreRefused() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        try corpus.good("en", "a", peaks: [0.1, 0.2])
        let out = corpus.root.appendingPathComponent("_out")
        try makePreprocessor(corpus).run(output: out)

        do {
            try makePreprocessor(corpus, contextTurns: 2).run(output: out)
            Issue.record("a changed --num_context_turns was accepted")
        } catch let error as DatasetError {
            #expect("\(error)".contains("--num_context_turns 3 → 2") && "\(error)".contains("--overwrite"))
        }
        #expect(throws: DatasetError.self) {
            try makePreprocessor(corpus, fingerprint: Fingerprint(tokenizer: "t", codec: "other")).run(output: out)
        }
        // --overwrite replaces the old run.
        try makePreprocessor(corpus, contextTurns: 0).run(output: out, overwrite: true)
        let data = try PreprocessedDataset(out)
        #expect(data.maxContextTurns == 0 && data.manifest.samples.allSatisfy { $0.segments.count == 1 })
    }
}
