import Audio
import Foundation
import Testing
@testable import Dataset

/// The bad-input corpus: each case must end as a named skip (or a clear error), never a crash, while the good
/// conversations around it are still written.
@Suite struct BadInputTests {
    /// Builds the corpus; returns the skips it must produce as `conversation[/segment] code`.
    func buildCorpus(_ c: TestCorpus) throws -> [String] {
        var expected: [String] = []
        try c.good("de", "good_b", peaks: [0.11, 0.12, 0.13])
        try c.good("en", "good_a", peaks: [0.21, 0.22, 0.23, 0.24])
        // Ignored: folders starting with '_' (at both levels), and plain files at the top.
        try c.good("_meta", "stats", peaks: [0.5])
        try c.good("en", "_draft", peaks: [0.5])
        try Data("readme".utf8).write(to: c.root.appendingPathComponent("README.txt"))

        // 1. Missing script.
        try c.wav("en", "missing_script", "001_speaker1.wav", seconds: 1, peak: 0.3)
        expected.append("en/missing_script missing_script")
        // 2. Script/wav count mismatch.
        try c.script("en", "count_mismatch", "[1]: one\n[2]: two\n[1]: three\n")
        try c.wav("en", "count_mismatch", "001_speaker1.wav", seconds: 1, peak: 0.3)
        try c.wav("en", "count_mismatch", "002_speaker2.wav", seconds: 1, peak: 0.3)
        expected.append("en/count_mismatch count_mismatch")
        // 3. Empty conversation (empty script, no wavs).
        try c.script("en", "empty_conversation", "\n\n")
        expected.append("en/empty_conversation empty_conversation")
        // 4. No segments/ folder at all.
        try FileManager.default.createDirectory(at: c.root.appendingPathComponent("en/no_segments"),
                                                withIntermediateDirectories: true)
        expected.append("en/no_segments no_segments_folder")
        // 5. Two wavs with the same number.
        try c.script("en", "duplicate", "[1]: one\n[2]: two\n")
        try c.wav("en", "duplicate", "001_speaker1.wav", seconds: 1, peak: 0.3)
        try c.wav("en", "duplicate", "001_speaker2.wav", seconds: 1, peak: 0.3)
        expected.append("en/duplicate duplicate_wav_number")
        // 6. Numbers that do not pair with lines 1...n (0-based numbering).
        try c.script("en", "zero_based", "[1]: one\n")
        try c.wav("en", "zero_based", "000_speaker1.wav", seconds: 1, peak: 0.3)
        expected.append("en/zero_based wav_numbers_out_of_range")

        // Segment-level cases share one conversation, whose good segments must survive.
        let m = "mixed"
        var lines: [String] = []
        func add(_ line: String, _ file: String, peak: Float = 0.4, seconds: Double = 1, rate: Int = 24_000,
                 channels: Int = 1, code: String?) throws {
            lines.append(line)
            try c.wav("en", m, file, seconds: seconds, peak: peak, rate: rate, channels: channels)
            if let code { expected.append("en/\(m)/\(file) \(code)") }
        }
        try add("[1]: fine first", "001_speaker1.wav", peak: 0.31, code: nil)
        // 7. Speaker suffix contradicting the tag.
        try add("[2]: wrong speaker", "002_speaker1.wav", code: "speaker_mismatch")
        // 8-9. Malformed lines: no tag, and a non-numeric tag.
        try add("Speaker 1: no tag", "003_speaker1.wav", code: "malformed_line")
        try add("[x]: letter tag", "004_speaker1.wav", code: "malformed_line")
        // 10. Segment too short, 11. too long (--max_audio_seconds 3 in these tests).
        try add("[1]: short", "005_speaker1.wav", seconds: 0.2, code: "too_short")
        try add("[1]: long", "006_speaker1.wav", seconds: 3.5, code: "too_long")
        // 12. Text longer than --text_max_length (20 fake tokens).
        try add("[1]: " + Array(repeating: "word", count: 30).joined(separator: " "), "007_speaker1.wav",
                code: "text_too_long")
        // 13. Wrong rate and stereo: accepted and converted.
        try add("[2]: stereo at 44.1 kHz", "008_speaker2.wav", peak: 0.32, rate: 44_100, channels: 2, code: nil)
        // 14-16. Empty, corrupt and truncated wavs.
        try add("[1]: empty wav", "009_speaker1.wav", code: "bad_audio")
        try add("[1]: corrupt wav", "010_speaker1.wav", code: "bad_audio")
        try add("[1]: truncated wav", "011_speaker1.wav", code: "bad_audio")
        // 17. Unreadable: a folder where the wav should be (file permissions cannot stop root, who runs CI).
        try add("[1]: not a file", "012_speaker1.wav", code: "bad_audio")
        // 18. Empty text after the tag.
        try add("[1]:   ", "013_speaker1.wav", code: "empty_text")
        // 19. A line that is not UTF-8.
        try add("[1]: NOT_UTF8", "014_speaker1.wav", code: "not_utf8")
        try add("[2]: fine last", "015_speaker2.wav", peak: 0.33, code: nil)
        // 20. A wav whose name is not NNN_speakerK.wav.
        try c.wav("en", m, "notes.wav", seconds: 1, peak: 0.3)
        expected.append("en/\(m)/notes.wav unrecognized_file")

        var script = Data(("\n" + lines.joined(separator: "\n\n") + "\n").utf8)  // blank lines are skipped
        script = script.replacing(Data("NOT_UTF8".utf8), with: Data([0x66, 0xFF, 0xFE, 0x6F]))
        try c.script("en", m, script)
        let seg = try c.segments("en", m)
        try Data().write(to: seg.appendingPathComponent("009_speaker1.wav"))
        try Data((0 ..< 5000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: seg.appendingPathComponent("010_speaker1.wav"))
        let whole = try Data(contentsOf: seg.appendingPathComponent("011_speaker1.wav"))
        try whole.prefix(whole.count / 2).write(to: seg.appendingPathComponent("011_speaker1.wav"))
        try FileManager.default.removeItem(at: seg.appendingPathComponent("012_speaker1.wav"))
        try FileManager.default.createDirectory(at: seg.appendingPathComponent("012_speaker1.wav"),
                                                withIntermediateDirectories: false)
        return expected
    }

    @Test func everyBadInputIsANamedSkip() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        let expected = try buildCorpus(corpus)
        let out = corpus.root.appendingPathComponent("_out")  // '_' so the scan ignores it
        let report = try makePreprocessor(corpus).run(output: out)

        let got = report.skips.map { "\($0.conversation)\($0.segment.map { "/" + $0 } ?? "") \($0.code)" }
        #expect(got.sorted() == expected.sorted())
        for skip in report.skips { #expect(!skip.reason.isEmpty && !skip.reason.contains("\n"), "\(skip.line)") }

        // The good conversations and the good segments of the mixed one are written.
        let data = try PreprocessedDataset(out)
        #expect(data.manifest.conversations.map(\.id) == ["de/good_b", "en/good_a", "en/mixed"])
        #expect(data.manifest.conversations[2].segments.map(\.file) == ["001_speaker1.wav", "008_speaker2.wav",
                                                                          "015_speaker2.wav"])
        // The stereo 44.1 kHz wav was converted: 1 s at 24 kHz, codes from its own audio.
        let stereo = data.manifest.conversations[2].segments[1]
        #expect(abs(stereo.duration - 1.0) < 1e-3)
        #expect(report.conversationsFound == 9 && report.conversationsWritten == 3)

        // report.json on disk says the same.
        let onDisk = try JSONDecoder().decode(Report.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(onDisk == report)
    }

    @Test func audioErrorsSayWhatIsWrong() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        _ = try buildCorpus(corpus)
        let report = try makePreprocessor(corpus).run(output: corpus.root.appendingPathComponent("_out"))
        let reasons = Dictionary(uniqueKeysWithValues: report.skips.compactMap { s in s.segment.map { ($0, s.reason) } })
        #expect(reasons["009_speaker1.wav"]?.contains("empty") == true)
        #expect(reasons["011_speaker1.wav"]?.contains("truncated") == true)
        #expect(reasons["012_speaker1.wav"]?.contains("not an audio file") == true)
        #expect(reasons["002_speaker1.wav"] == "script tag [2] contradicts the file's speaker1 suffix")
    }

    @Test(.disabled(if: geteuid() == 0, "root reads any file whatever its mode; unreadableEntriesAreSkipped covers root"))
    func unreadablePermissionsAreSkipped() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        try corpus.good("en", "locked", peaks: [0.2, 0.3])
        let wav = try corpus.segments("en", "locked").appendingPathComponent("002_speaker2.wav")
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: wav.path)
        let report = try makePreprocessor(corpus).run(output: corpus.root.appendingPathComponent("_out"))
        #expect(report.skips.map(\.code) == ["bad_audio"])
    }

    /// Entries named like a wav that nobody can read as audio, root included: a directory and a FIFO (which
    /// must not hang the scan waiting for a writer). Each is one skipped segment; the rest of the set is kept.
    @Test(arguments: ["directory", "fifo"]) func unreadableEntriesAreSkipped(kind: String) throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        try corpus.good("en", "odd", peaks: [0.2, 0.3, 0.4])
        let wav = try corpus.segments("en", "odd").appendingPathComponent("002_speaker2.wav")
        try FileManager.default.removeItem(at: wav)
        if kind == "directory" {
            try FileManager.default.createDirectory(at: wav, withIntermediateDirectories: false)
        } else {
            #expect(mkfifo(wav.path, 0o600) == 0)
        }
        let report = try makePreprocessor(corpus).run(output: corpus.root.appendingPathComponent("_out"))
        #expect(report.skips.map(\.code) == ["bad_audio"])
        #expect(report.skips.first?.reason.contains(kind == "directory" ? "directory" : "FIFO") == true,
                "\(report.skips.first?.reason ?? "no skip")")
    }

    @Test func onlyMetaIsAClearError() throws {
        let corpus = try TestCorpus()
        defer { corpus.remove() }
        try corpus.good("_meta", "stats", peaks: [0.5])
        #expect(throws: DatasetError.nothingToDo(corpus.root.standardizedFileURL.path)) {
            try makePreprocessor(corpus).run(output: corpus.root.appendingPathComponent("_out"))
        }
        #expect(throws: DatasetError.inputNotFound(corpus.root.appendingPathComponent("nope").path)) {
            let p = Preprocessor(options: PreprocessOptions(inputPath: corpus.root.appendingPathComponent("nope").path),
                                 fingerprint: Fingerprint(tokenizer: "", codec: ""), tokenizer: FakeTokenizer(),
                                 codec: FakeCodec())
            try p.run(output: corpus.root.appendingPathComponent("_out"))
        }
    }

    @Test func scriptParsing() {
        let lines = Script.parse(Data("\u{FEFF}[1]:  Hallo Welt \r\n\n  [12]:x\n[0]: zero\n[3] : gap\n".utf8))
        #expect(lines.map(\.number) == [1, 2, 3, 4])
        #expect(lines[0].content == .turn(tag: 1, text: "Hallo Welt"))
        #expect(lines[1].content == .turn(tag: 12, text: "x"))
        #expect(lines[2].content == .malformed("[0]: zero"))
        #expect(lines[3].content == .malformed("[3] : gap"))
    }
}
