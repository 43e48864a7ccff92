import Foundation
import Testing
@testable import Audio

/// The bad-input corpus, generated fresh in a temp dir. Every failure must be an `AudioError` whose message names
/// the file and says what is wrong with it; `read`, `info` and `loadMono` must all refuse.
@Suite final class BadInputTests {
    let directory: URL

    init() throws { directory = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: directory) }

    private func file(_ name: String, _ bytes: Data) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try bytes.write(to: url)
        return url
    }

    /// A valid 16 kHz mono 16-bit WAV of `frames` frames.
    private func wavBytes(frames: Int) -> Data {
        RIFFWAV(payload: RIFFWAV.pcm16((0 ..< frames).map { Int16(truncatingIfNeeded: $0 * 97) })).bytes
    }

    @discardableResult
    private func expectRefusal(_ url: URL, saying phrase: String, headerLooksFine: Bool = false,
                               sourceLocation: SourceLocation = #_sourceLocation) -> AudioError? {
        var last: AudioError?
        var attempts: [(String, () throws -> Void)] = [
            ("read", { _ = try AudioFile.read(url) }),
            ("loadMono", { _ = try AudioFile.loadMono(url) }),
        ]
        // `info` reads only the header, so it cannot see damage further in.
        if !headerLooksFine { attempts.append(("info", { _ = try AudioFile.info(url) })) }
        for (name, attempt) in attempts {
            do {
                try attempt()
                Issue.record("\(name) accepted \(url.lastPathComponent)", sourceLocation: sourceLocation)
            } catch let error as AudioError {
                #expect(error.description.hasPrefix(url.path + ":"), "\(error)", sourceLocation: sourceLocation)
                #expect(error.description.contains(phrase), "\(error)", sourceLocation: sourceLocation)
                last = error
            } catch {
                Issue.record("\(name) threw a non-audio error: \(error)", sourceLocation: sourceLocation)
            }
        }
        return last
    }

    @Test func missingFile() {
        let error = expectRefusal(directory.appendingPathComponent("nowhere.wav"), saying: "no such file")
        #expect(error == .fileNotFound(path: directory.appendingPathComponent("nowhere.wav").path))
    }

    @Test func directoryInsteadOfFile() throws {
        let url = directory.appendingPathComponent("folder.wav")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        expectRefusal(url, saying: "it is a directory")
    }

    @Test func fifoInsteadOfFile() throws {
        let url = directory.appendingPathComponent("pipe.wav")
        #expect(mkfifo(url.path, 0o600) == 0)
        expectRefusal(url, saying: "it is a FIFO")  // and does not hang waiting for a writer
    }

    /// Permission bits stop everyone but root. As root, an unreadable path is one that goes through a file.
    @Test func unreadableFile() throws {
        if geteuid() != 0 {
            let url = try file("locked.wav", wavBytes(frames: 100))
            #expect(chmod(url.path, 0) == 0)
            expectRefusal(url, saying: "cannot be read (Permission denied)")
        } else {
            let parent = try file("plain.wav", wavBytes(frames: 100))
            expectRefusal(parent.appendingPathComponent("inner.wav"), saying: "cannot be read (Not a directory)")
        }
    }

    @Test func zeroByteFile() throws {
        expectRefusal(try file("empty.wav", Data()), saying: "empty audio file (0 bytes)")
    }

    @Test func zeroFrameWAV() throws {
        let url = directory.appendingPathComponent("silence.wav")
        try WAVWriter.write([], sampleRate: 16_000, to: url)
        expectRefusal(url, saying: "empty audio file (0 frames)")
    }

    @Test func zeroChannels() throws {
        expectRefusal(try file("nochannels.wav", RIFFWAV(channels: 0, payload: RIFFWAV.pcm16([1, 2, 3])).bytes),
                      saying: "zero channels")
    }

    @Test func zeroSampleRate() throws {
        expectRefusal(try file("norate.wav", RIFFWAV(sampleRate: 0, payload: RIFFWAV.pcm16([1, 2, 3])).bytes),
                      saying: "damaged audio file")
    }

    /// Decision: a WAV whose data chunk claims more bytes than the file holds is an error, not a partial read;
    /// the preprocessor turns it into a reported skip.
    @Test func truncatedWAV() throws {
        let whole = wavBytes(frames: 1_000)
        let url = try file("cut.wav", whole.prefix(whole.count / 2))
        expectRefusal(url, saying: "truncated audio file (header declares 2000 bytes of audio, only 978 present)")
    }

    @Test func truncatedFLAC() throws {
        let flac = try Data(contentsOf: audioFixtures.appendingPathComponent("flac_44100_stereo_pcm16.flac"))
        // FLAC's header states the full frame count; the decoder runs out of stream before reaching it.
        expectRefusal(try file("cut.flac", flac.prefix(flac.count / 2)), saying: "truncated audio file (decoded",
                      headerLooksFine: true)
    }

    @Test func truncatedOgg() throws {
        let ogg = try Data(contentsOf: audioFixtures.appendingPathComponent("ogg_48k_mono_vorbis.ogg"))
        expectRefusal(try file("cut.ogg", ogg.prefix(ogg.count / 2)), saying: "damaged audio file (libsndfile:")
    }

    @Test func headerWithoutData() throws {
        expectRefusal(try file("header.wav", RIFFWAV().bytes.prefix(20)), saying: "damaged audio file (libsndfile:")
    }

    @Test func randomBytesNamedWAV() throws {
        var generator = SystemRandomNumberGenerator()
        let noise = Data((0 ..< 4_096).map { _ in UInt8.random(in: 0 ... 255, using: &generator) })
        expectRefusal(try file("noise.wav", Data("JUNK".utf8) + noise), saying: "not an audio file (libsndfile:")
    }

    @Test func textFile() throws {
        expectRefusal(try file("notes.txt", Data("[1]: Hello there.\n[2]: Hi!\n".utf8)),
                      saying: "not an audio file (libsndfile:")
    }

    @Test func nonFiniteSamples() throws {
        let samples: [Float] = [0.1, 0.2, .nan, 0.3, .infinity, 0.4]
        let wav = RIFFWAV(formatTag: 3, channels: 2, bitsPerSample: 32, payload: RIFFWAV.float32(samples))
        let error = expectRefusal(try file("nan.wav", wav.bytes), saying: "2 sample(s) are NaN or infinite (first at frame 1)",
                                  headerLooksFine: true)
        #expect(error != nil)
    }

    /// A refused file must not leak its descriptor or libsndfile handle (a preprocess run meets thousands of files).
    @Test func refusalsLeakNoDescriptors() throws {
        guard FileManager.default.fileExists(atPath: "/proc/self/fd") else { return }
        let truncated = try file("leak-cut.wav", wavBytes(frames: 1_000).prefix(1_000))
        let noChannels = try file("leak-nochannels.wav", RIFFWAV(channels: 0, payload: RIFFWAV.pcm16([1])).bytes)
        func openDescriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count }
        let before = try openDescriptors()
        for _ in 0 ..< 300 {
            _ = try? AudioFile.read(truncated)
            _ = try? AudioFile.read(noChannels)
        }
        // Other tests run in parallel and open files too, hence the slack; 600 leaks would not hide in it.
        #expect(try openDescriptors() - before < 50)
    }

    /// Not bad input: streaming writers (ffmpeg to a pipe) cannot seek back, so they leave the sizes at 0xFFFFFFFF.
    @Test func streamingHeaderIsNotTruncation() throws {
        let values = (0 ..< 500).map { Int16($0) }
        let url = try file("piped.wav", RIFFWAV(payload: RIFFWAV.pcm16(values), declaredDataSize: 0xFFFF_FFFF).bytes)
        let read = try AudioFile.read(url)
        #expect(read.frames == 500)
        #expect(read.samples[499] == Float(499) / 32_768)
    }
}
