import Audio
import Foundation
import Serve
import Testing

/// The request body's checks, the voices file and the in-memory audio encoders, without a server.
struct SpeechRequestTests {
    func parse(_ json: String, max: Int = 100) throws -> SpeechRequest {
        try SpeechRequest.parse(Data(json.utf8), maxInputCharacters: max)
    }

    func refusal(_ json: String, max: Int = 100) -> OpenAIError? {
        do { _ = try parse(json, max: max); return nil } catch { return error as? OpenAIError }
    }

    @Test func acceptsOpenAIsFieldsWithWavByDefault() throws {
        let r = try parse(#"{"model": "m", "input": "Hi.", "voice": "0", "speed": 1.0, "seed": 3}"#)
        #expect(r == SpeechRequest(model: "m", input: "Hi.", voice: "0", format: .wav, streamFormat: .audio, seed: 3))
        let custom = try parse(#"{"model": "m", "input": "Hi.", "voice": {"id": "alice"}, "response_format": "flac", "stream_format": "sse"}"#)
        #expect(custom.voice == "alice" && custom.format == .flac && custom.streamFormat == .sse && custom.seed == nil)
    }

    @Test func refusesEachBadFieldNamingIt() {
        let cases: [(String, String?)] = [
            (#"{"model": "m", "input": "Hi."}"#, "voice"),
            (#"{"input": "Hi.", "voice": "0"}"#, "model"),
            (#"{"model": "m", "input": " \n", "voice": "0"}"#, "input"),
            (#"{"model": "m", "input": 3, "voice": "0"}"#, "input"),
            (#"{"model": "m", "input": "Hi.", "voice": "0", "response_format": "mp3"}"#, "response_format"),
            (#"{"model": "m", "input": "Hi.", "voice": "0", "stream_format": "chunks"}"#, "stream_format"),
            (#"{"model": "m", "input": "Hi.", "voice": "0", "speed": 0.5}"#, "speed"),
            (#"{"model": "m", "input": "Hi.", "voice": "0", "instructions": "whisper"}"#, "instructions"),
            (#"{"model": "m", "input": "Hi.", "voice": "0", "seed": -1}"#, "seed"),
            (#"{"model": "m", "input": "Hi.", "voice": "0", "temperature": 2}"#, "temperature"),
            (#"{"model": "m", "input": "Hi.", "voice": "0""#, nil),
            (#"["model"]"#, nil),
        ]
        for (json, param) in cases {
            let error = refusal(json)
            #expect(error?.status == .badRequest && error?.param == param, "\(json): \(String(describing: error))")
        }
        #expect(refusal(#"{"model": "m", "input": "\#(String(repeating: "x", count: 101))", "voice": "0"}"#)?.param == "input")
    }

    @Test func errorBodyIsOpenAIsShape() throws {
        let body = OpenAIError.invalid("bad \"quote\"", param: "voice").body
        let json = try JSONSerialization.jsonObject(with: body) as? [String: [String: Any]]
        let error = try #require(json?["error"])
        #expect(error["message"] as? String == "bad \"quote\"" && error["type"] as? String == "invalid_request_error")
        #expect(error["param"] as? String == "voice" && error["code"] is NSNull)
    }

    @Test func voicesFileResolvesFoldersAndRejectsMistakes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("voices-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("alice"), withIntermediateDirectories: true)
        let file = root.appendingPathComponent("voices.yaml")
        try "alice:\n  context: alice\n  speaker: 2\nbob: {speaker: 1}\n".write(to: file, atomically: true, encoding: .utf8)
        let voices = try VoiceFile.load(file)
        #expect(voices.entries.map(\.name) == ["alice", "bob"])
        #expect(voices.entries[0].context?.path == root.appendingPathComponent("alice").standardizedFileURL.path)
        #expect(voices.entries[0].speaker == 2 && voices.entries[1].context == nil && voices.entries[1].speaker == 1)

        for (text, needle) in [("alice:\n  contxt: alice\n", "unknown key 'contxt'"),
                               ("alice:\n  context: missing\n", "is not a folder"),
                               ("alice:\n  speaker: -1\n", "speaker must be an integer"),
                               ("- alice\n", "expected a mapping")] {
            try text.write(to: file, atomically: true, encoding: .utf8)
            #expect(throws: ServeError.self, "\(text)") { try VoiceFile.load(file) }
            do { _ = try VoiceFile.load(file) } catch {
                #expect("\(error)".contains(needle) && "\(error)".contains(file.path), "\(error)")
            }
        }
    }

    /// In memory, libsndfile writes the bytes it writes to a file: raw chunks = the WAV's data, FLAC decodes back.
    @Test func memoryEncodersMatchTheFileWriters() throws {
        let samples = (0..<5_000).map { Float(sin(Double($0) * 0.01)) * 1.2 }  // some beyond ±1: clipped alike
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("enc-\(UUID()).wav")
        defer { try? FileManager.default.removeItem(at: file) }
        try WAVWriter.write(samples, sampleRate: 24_000, to: file)
        let raw = try MemoryAudioEncoder(.rawPCM16, sampleRate: 24_000)
        var streamed = Data()
        for chunk in stride(from: 0, to: samples.count, by: 1_234) {
            try raw.append(Array(samples[chunk..<min(chunk + 1_234, samples.count)]))
            streamed += raw.takeBytes()
        }
        streamed += try raw.finish()
        #expect(streamed == (try Data(contentsOf: file)).dropFirst(44))
        let header = MemoryAudioEncoder.streamingWAVHeader(sampleRate: 24_000)
        #expect(header.count == 44 && header.prefix(4) == Data("RIFF".utf8))

        let flac = try MemoryAudioEncoder(.flac, sampleRate: 24_000)
        try flac.append(samples)
        let bytes = try flac.finish()
        let flacFile = file.deletingPathExtension().appendingPathExtension("flac")
        defer { try? FileManager.default.removeItem(at: flacFile) }
        try bytes.write(to: flacFile)
        let decoded = try AudioFile.read(flacFile)
        let original = try AudioFile.read(file)
        #expect(decoded.format.container.hasPrefix("FLAC") && decoded.samples == original.samples)
    }
}
