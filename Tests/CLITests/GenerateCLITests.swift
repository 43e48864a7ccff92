import Audio
import Foundation
import Testing
import TestSupport

/// `csm generate` as users run it (the built binary, in processes) on the tiny demo model: text, a context
/// folder and an adapter in; a 24 kHz WAV out; bad input refused with a message naming the problem.
@Suite(.serialized) struct GenerateCLITests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-generate-\(UUID())")

    func generate(_ args: [String], output: URL, seconds: Double = 1, seed: Int = 7) -> [String] {
        generate(args, outputPath: output.path, seconds: seconds, seed: seed)
    }

    /// `outputPath` as given (`-` is stdout).
    func generate(_ args: [String], outputPath: String, seconds: Double = 1, seed: Int = 7) -> [String] {
        ["generate", "--model_id", CLI.model, "--output", outputPath, "--max_audio_seconds", "\(seconds)",
         "--seed", "\(seed)"] + args + CLI.cpu
    }

    /// A `--context` folder: a 1-second tone spoken by [1], then the line [2] is to speak.
    func contextFolder(_ name: String = "context") throws -> URL {
        let folder = root.appendingPathComponent(name)
        let segments = folder.appendingPathComponent("segments")
        try CLI.writeTone(to: segments.appendingPathComponent("segment_0001_speaker1.wav"))
        try "[1]: This is the first line.\n[2]: And this is the reply.\n"
            .write(to: segments.appendingPathComponent("script.txt"), atomically: true, encoding: .utf8)
        return folder
    }

    /// The file is a 24 kHz mono WAV of whole 80 ms Mimi frames, at most `seconds` long, with finite samples.
    func expectSpeech(_ url: URL, seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let audio = try AudioFile.read(url)
        #expect(audio.format.container.hasPrefix("WAV") && audio.sampleRate == 24_000 && audio.channels == 1,
                "\(url.path): \(audio.info)", sourceLocation: sourceLocation)
        #expect(audio.frames > 0 && audio.frames % 1_920 == 0 && Double(audio.frames) <= seconds * 24_000,
                "\(url.path): \(audio.frames) samples", sourceLocation: sourceLocation)
        #expect(audio.samples.allSatisfy { $0.isFinite && abs($0) <= 1 }, sourceLocation: sourceLocation)
    }

    @Test func speaksTextToA24kHzWavTheSameForTheSameSeed() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let first = root.appendingPathComponent("out/first.wav"), second = root.appendingPathComponent("second.wav")
        let r = try CLI.succeed(generate(["--text", "Hello there, this is a test.", "--speaker", "1"], output: first))
        #expect(r.stdout.hasPrefix("wrote \(first.path): "), "\(r.stdout)")
        #expect(r.stderr.contains("(0 context turns); seed 7; top-k 50, temperature 0.9"), "\(r.stderr)")
        try expectSpeech(first, seconds: 1)
        try CLI.succeed(generate(["--text", "Hello there, this is a test.", "--speaker", "1"], output: second))
        #expect(try Data(contentsOf: first) == Data(contentsOf: second), "same seed, model and prompt: same audio")
    }

    /// `--mask_speaker_ids` (a model trained without the `[K]` prefix) lays the text out as `bos text eos`: the
    /// prompt is the prefix's tokens shorter, with a context folder's turns too.
    @Test func maskedSpeakerIdsLeaveThePrefixOut() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let context = try contextFolder()
        func positions(_ extra: [String]) throws -> Int {
            let r = try CLI.succeed(generate(["--context", context.path] + extra, output: root.appendingPathComponent("o.wav"),
                                             seconds: 0.2))
            let line = r.stderr.split(separator: "\n").first { $0.contains("; prompt ") } ?? ""
            let n = line.split(separator: " ").drop { $0 != "prompt" }.dropFirst().first.flatMap { Int($0) }
            #expect(n != nil, "\(r.stderr)")
            return n ?? 0
        }
        let plain = try positions([]), masked = try positions(["--mask_speaker_ids"])
        // "[1]" and "[2]" are 3 tokens each in the Llama-3 vocabulary: both turns lose theirs.
        #expect(plain - masked == 6, "prompt \(plain) positions plain, \(masked) masked")
    }

    /// `--stream` decodes chunk by chunk while generating; the same seed gives the same audio as the whole-clip
    /// decode, for chunks of one frame and of sizes that do not divide the length, into a WAV or as raw PCM.
    @Test func streamedAudioEqualsTheWholeClipDecode() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let line = ["--text", "Hello there, this is a streamed test.", "--speaker", "0"]
        let whole = root.appendingPathComponent("whole.wav")
        let r = try CLI.succeed(generate(line, output: whole, seconds: 2))
        #expect(r.stderr.contains("[generate] 1/25 frames · "), "a progress line: \(r.stderr)")
        let reference = try AudioFile.read(whole).samples
        #expect(!reference.isEmpty)
        var worst = 0.0
        for chunk in [1, 3, 7, 50] {
            let out = root.appendingPathComponent("stream-\(chunk).wav")
            let s = try CLI.succeed(generate(line + ["--stream", "--chunk_frames", "\(chunk)"], output: out, seconds: 2))
            #expect(s.stdout.hasPrefix("wrote \(out.path): "), "\(s.stdout)")
            #expect(s.stderr.contains("[generate] first audio after "), "\(s.stderr)")
            #expect(s.stderr.contains("chunks streamed, first audio after "), "\(s.stderr)")
            try expectSpeech(out, seconds: 2)
            let streamed = try AudioFile.read(out).samples
            #expect(streamed.count == reference.count, "chunks of \(chunk): \(streamed.count) vs \(reference.count) samples")
            worst = max(worst, zip(streamed, reference).map { Double(abs($0 - $1)) }.max() ?? .infinity)
        }
        // 16-bit samples: equal floats give equal bytes, and 1e-4 is ~3 steps of 1/32767.
        #expect(parity("GenerateCLITests.stream_wav", worst, 1e-4), "streamed vs whole-clip WAV")

        // --output -: the same samples as raw s16le on stdout, the summary on stderr.
        let raw = try CLI.succeed(generate(line + ["--stream", "--chunk_frames", "2"], outputPath: "-", seconds: 2))
        #expect(raw.stderr.contains("of raw PCM to stdout"), "\(raw.stderr)")
        let pcm = raw.stdoutData.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }.map { Int16(littleEndian: $0) }
        #expect(pcm.count == reference.count, "\(raw.stdoutData.count) bytes on stdout for \(reference.count) samples")
        let steps = zip(pcm, reference).map { abs(Int($0) - Int(($1 * 32767).rounded())) }.max() ?? .max
        #expect(steps <= 3, "raw PCM vs the WAV: \(steps) steps of 1/32767")
    }

    @Test func badChunkSizeIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("chunk.wav")
        let r = try CLI.exec(generate(["--text", "Hi.", "--stream", "--chunk_frames", "0"], output: out))
        #expect(r.exited && r.status != 0 && r.stderr.contains("--chunk_frames must be ≥ 1"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func speaksTheLastLineOfAContextFolderThroughAnAdapter() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let trained = try TrainedAdapter.shared()
        let out = root.appendingPathComponent("context.wav")
        let r = try CLI.succeed(generate(["--context", try contextFolder().path, "--adapter", trained.adapter.path],
                                         output: out, seconds: 0.5))
        #expect(r.stderr.contains("adapter \(trained.adapter.path): LoRA r=4, alpha=8"), "\(r.stderr)")
        #expect(r.stderr.contains("(1 context turns)"), "\(r.stderr)")
        try expectSpeech(out, seconds: 0.5)
    }

    @Test func quantizedProjectionsSpeak() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        for (args, logged) in [(["--quantize", "int8"], "28 projections quantized to int8 (per-channel symmetric)"),
                               (["--quantize", "int4", "--group_size", "32"], "28 projections quantized to int4 (group size 32")] {
            let out = root.appendingPathComponent("\(args[1]).wav")
            let r = try CLI.succeed(generate(["--text", "Hello there."] + args, output: out, seconds: 0.5))
            #expect(r.stderr.contains(logged), "\(r.stderr)")
            try expectSpeech(out, seconds: 0.5)
        }
        let out = root.appendingPathComponent("bad.wav")
        try CLI.fail(generate(["--text", "Hi.", "--quantize", "int3"], output: out), mentioning: ["use int8 or int4"])
        try CLI.fail(generate(["--text", "Hi.", "--quantize", "int4", "--group_size", "48"], output: out),
                     mentioning: ["group size must be one of [32, 64, 128, 256]"])
    }

    @Test func emptyTextIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("empty.wav")
        for text in ["", "  \n "] {
            try CLI.fail(generate(["--text", text], output: out), mentioning: ["the text to speak is empty"])
        }
        try CLI.fail(generate([], output: out), mentioning: ["give --text, --context, or both"])
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func unreadableContextAudioIsNamed() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("keep.wav")
        try CLI.writeTone(to: out, seconds: 0.1)
        let before = try Data(contentsOf: out)

        let text = try contextFolder("text")
        let notAudio = text.appendingPathComponent("segments/segment_0001_speaker1.wav")
        try "not audio at all".write(to: notAudio, atomically: true, encoding: .utf8)
        try CLI.fail(generate(["--context", text.path], output: out), mentioning: [notAudio.path, "not an audio file"])

        let directory = try contextFolder("directory")
        let folder = directory.appendingPathComponent("segments/segment_0001_speaker1.wav")
        try FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        try CLI.fail(generate(["--context", directory.path], output: out), mentioning: [folder.path, "directory"])

        let missing = root.appendingPathComponent("no-such-context")
        try CLI.fail(generate(["--context", missing.path], output: out),
                     mentioning: [missing.appendingPathComponent("segments/script.txt").path, "is missing"])
        #expect(try Data(contentsOf: out) == before, "a failed run must leave the existing output alone")
    }

    @Test func promptLongerThanTheModelIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("keep.wav")
        try CLI.writeTone(to: out, seconds: 0.1)
        let before = try Data(contentsOf: out)
        // The demo model has 2048 positions (max_position_embeddings); 2100 words take more.
        let long = Array(repeating: "word", count: 2_100).joined(separator: " ")
        try CLI.fail(generate(["--text", long], output: out),
                     mentioning: ["positions the model supports (max_position_embeddings)", "> 2048"])
        // A short prompt with more frames to generate than fit: 200 s is 2500 frames.
        try CLI.fail(generate(["--text", "Hi."], output: out, seconds: 200),
                     mentioning: ["up to 2500 frames", "lower --max_audio_seconds"])
        #expect(try Data(contentsOf: out) == before, "a failed run must leave the existing output alone")
    }
}
