import Audio
import Foundation
import Testing
import TestSupport

/// Bounds of the serve suites, each with why it holds on any x86-64 CPU.
enum Tolerance {
    /// Streamed (chunked Mimi) vs whole-clip decode of the same codes, after 16-bit rounding: MimiStreamingTests'
    /// 1e-4 on floats, plus up to one step of 1/32767 where the two round to neighbouring integers.
    static let streamedVsWholeClip = 1e-4 + 1.0 / 32767
}

/// `csm serve` on the tiny demo model, driven by OpenAI's own Python client (tools/checks/openai_speech.py): what it
/// receives is valid audio (libsndfile reads it) and equals `csm generate` with the same seed, voice and text.
@Suite(.serialized, .enabled(if: PythonChecks.isAvailable, "tools/.venv missing: run make venv"))
struct OpenAIClientTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("serve-openai-\(UUID())")
    let text = "Hello there, this is the speech server."
    let seed = 11
    let seconds = 2.0

    /// A voice's context folder: a 1-second tone said by [1], then the line [2] speaks (its text replaced).
    func contextFolder() throws -> URL {
        let segments = root.appendingPathComponent("alice/segments")
        try FileManager.default.createDirectory(at: segments, withIntermediateDirectories: true)
        let tone = (0..<24_000).map { Float(0.3 * sin(Double($0) * 240 * 2 * .pi / 24_000)) }
        try WAVWriter.write(tone, sampleRate: 24_000, to: segments.appendingPathComponent("segment_0001_speaker1.wav"))
        try "[1]: This is the first line.\n[2]: And this is the reply.\n"
            .write(to: segments.appendingPathComponent("script.txt"), atomically: true, encoding: .utf8)
        return root.appendingPathComponent("alice")
    }

    @Test func openaiClientGetsTheAudioOfCsmGenerate() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let context = try contextFolder()
        let voices = root.appendingPathComponent("voices.yaml")
        try "alice:\n  context: alice\nnumbered:\n  speaker: 1\n".write(to: voices, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["--voices", voices.path, "--api_key", "sesame", "--chunk_frames", "2",
                                        "--max_audio_seconds", "\(seconds)"])
        let out = root.appendingPathComponent("client")
        let check = try python("tools/checks/openai_speech.py", [
            "--base_url", server.url + "/v1", "--api_key", "sesame", "--model", ServerProcess.modelName,
            "--voice", "alice", "--text", text, "--seed", "\(seed)", "--out", out.path])
        let report = String(decoding: check.stdout, as: UTF8.self) + check.stderr
        print(report)
        #expect(check.status == 0, "openai_speech.py:\n\(report)\nserver:\n\(server.output)")
        let stopped = server.stop(SIGINT)
        #expect(stopped.exited && stopped.status == 0, "csm serve after SIGINT: \(stopped)\n\(server.output)")

        // csm generate with the same seed, voice (context folder) and text: streamed in the server's chunks, the
        // same 16-bit samples; decoded whole, the same within the streaming bound.
        let streamed = root.appendingPathComponent("generate-stream.wav"), whole = root.appendingPathComponent("whole.wav")
        let common = ["generate", "--model_id", ServerProcess.model, "--context", context.path, "--text", text,
                      "--seed", "\(seed)", "--max_audio_seconds", "\(seconds)"] + ServerProcess.cpu
        #expect(try execute(ServerProcess.csm, common + ["--stream", "--chunk_frames", "2", "--output", streamed.path]).status == 0)
        #expect(try execute(ServerProcess.csm, common + ["--output", whole.path]).status == 0)
        let served = try Data(contentsOf: out.appendingPathComponent("create.wav"))
        let reference = try Data(contentsOf: streamed)
        #expect(!wavSamples(reference).isEmpty && wavSamples(served) == wavSamples(reference),
                "server wav vs csm generate --stream: \(wavSamples(served).count) vs \(wavSamples(reference).count) samples")
        #expect(pcmSamples(try Data(contentsOf: out.appendingPathComponent("stream.pcm"))) == wavSamples(reference))
        // FLAC: libsndfile decodes it to the same samples.
        let flac = try AudioFile.read(out.appendingPathComponent("create.flac"))
        #expect(flac.format.container.hasPrefix("FLAC") && flac.sampleRate == 24_000, "\(flac.info)")
        #expect(flac.samples == (try AudioFile.read(streamed)).samples, "flac vs generate's wav")
        let offline = try AudioFile.read(whole).samples, servedFloats = flac.samples
        let worst = zip(servedFloats, offline).map { Double(abs($0 - $1)) }.max() ?? .infinity
        #expect(servedFloats.count == offline.count)
        #expect(parity("OpenAIClientTests.served_vs_whole_clip", worst, Tolerance.streamedVsWholeClip))
    }
}
