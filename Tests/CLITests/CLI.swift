import Audio
import Foundation
import Testing
import TestSupport

/// The built `csm` binary run in processes, as users run it: where it and the tiny demo model are,
/// and how to run it and check its exit.
enum CLI {
    /// The tiny random CSM `make demo` runs on (the Hugging Face layout at toy size).
    static let model = fixturesFolder.appendingPathComponent("demo-model").path
    /// The `csm` binary next to the test bundle in the build folder.
    static let csm = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("csm").path
    /// Every subcommand that runs a model gets these: small and the same on every machine.
    static let cpu = ["--device", "cpu", "--threads", "1"]

    struct Result {
        var status: Int32
        /// False when the process died of a signal (a crash), whatever `status` holds.
        var exited: Bool
        var stdout: String
        var stderr: String
        /// stdout as written (binary output such as raw PCM does not survive `stdout`'s UTF-8 decoding).
        var stdoutData = Data()
        var output: String { stdout + stderr }
    }

    /// Runs `csm args` to the end (killed after `timeout` seconds). `merged`: stderr goes into `stdout`
    /// too, interleaved in the order it was written.
    static func exec(_ args: [String], merged: Bool = false, timeout: TimeInterval = 600) throws -> Result {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("csm-exec-\(UUID())")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        // Files, not pipes: nothing blocks when one stream fills while the other is read.
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        fm.createFile(atPath: outURL.path, contents: nil)
        fm.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: csm)
        p.arguments = args
        p.standardOutput = out
        p.standardError = merged ? out : err
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(5_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            Issue.record("csm \(args.joined(separator: " ")): still running after \(Int(timeout)) s, killed")
        }
        p.waitUntilExit()
        try out.close()
        try err.close()
        let stdout = try Data(contentsOf: outURL)
        return Result(status: p.terminationStatus, exited: p.terminationReason == .exit,
                      stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self), stdoutData: stdout)
    }

    /// Runs `csm args`, expects exit status `status`, returns stdout and stderr interleaved.
    @discardableResult
    static func run(_ args: [String], expect status: Int32 = 0,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try exec(args, merged: true)
        #expect(r.exited && r.status == status, "csm \(args.joined(separator: " ")):\n\(r.stdout)",
                sourceLocation: sourceLocation)
        return r.stdout
    }

    /// Runs `csm args`, expects success (exit 0), returns stdout and stderr apart.
    @discardableResult
    static func succeed(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let r = try exec(args, timeout: 120)
        #expect(r.exited && r.status == 0, "csm \(args.joined(separator: " ")): status \(r.status)\n\(r.output)",
                sourceLocation: sourceLocation)
        return r
    }

    /// Runs `csm args`, expects a clean failure: an exit (not a crash) with status ≠ 0, nothing on
    /// stdout, and an `Error:` line on stderr holding every one of `mentioning`.
    @discardableResult
    static func fail(_ args: [String], mentioning needles: [String],
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let r = try exec(args, timeout: 120)
        let command = "csm \(args.joined(separator: " ").prefix(300))"
        #expect(r.exited, "\(command): died of signal \(r.status)\n\(r.output)", sourceLocation: sourceLocation)
        #expect(r.status != 0, "\(command): exit status 0\n\(r.output)", sourceLocation: sourceLocation)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                "\(command): printed a result despite failing:\n\(r.stdout)", sourceLocation: sourceLocation)
        let error = r.stderr.split(separator: "\n").first { $0.hasPrefix("Error: ") }.map(String.init) ?? ""
        #expect(!error.isEmpty, "\(command): no 'Error:' line on stderr:\n\(r.stderr)", sourceLocation: sourceLocation)
        for needle in needles {
            #expect(error.contains(needle), "\(command): the error does not mention '\(needle)':\n\(r.stderr)",
                    sourceLocation: sourceLocation)
        }
        return r
    }

    /// A sine tone, `seconds` long, as 16-bit WAV (the channels carry the same tone).
    static func writeTone(to url: URL, seconds: Double = 1, hertz: Double = 240, sampleRate: Int = 24_000,
                          channels: Int = 1) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let mono = (0 ..< Int(seconds * Double(sampleRate))).map {
            Float(0.3 * sin(Double($0) * hertz * 2 * .pi / Double(sampleRate)))
        }
        let samples = mono.flatMap { [Float](repeating: $0, count: channels) }
        try WAVWriter.write(samples, sampleRate: sampleRate, channels: channels, encoding: .pcm16, to: url)
    }

    /// A fresh folder under the temporary directory.
    static func scratch(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every regular file under `folder` with its bytes, by relative path (to check nothing changed).
    static func snapshot(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let base = folder.standardizedFileURL.path
        for case let url as URL in FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) ?? .init()
        where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files[String(url.standardizedFileURL.path.dropFirst(base.count))] = try Data(contentsOf: url)
        }
        return files
    }
}

/// What `csm merge`, `csm eval` and `generate --adapter` need, made once per test process with the CLI
/// itself: a 4-segment tone conversation, `csm preprocess` of it, and a LoRA adapter from 4 steps of
/// `csm train` (a high learning rate, so that the adapter changes the losses). Removed at exit.
struct TrainedAdapter {
    let root: URL
    /// The raw dataset: data/en/tones/segments/00N_speakerK.wav, four 1-second tones.
    var segments: URL { root.appendingPathComponent("data/en/tones/segments") }
    var preprocessed: URL { root.appendingPathComponent("pre") }
    /// The `csm train` output folder: adapter_config.json + adapter_model.safetensors.
    var adapter: URL { root.appendingPathComponent("train") }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: TrainedAdapter?

    static func shared() throws -> TrainedAdapter {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let fixture = TrainedAdapter(root: try CLI.scratch("csm-cli-adapter"))
        sharedRoot = fixture.root
        atexit { if let sharedRoot { try? FileManager.default.removeItem(at: sharedRoot) } }
        try fixture.make()
        made = fixture
        return fixture
    }

    private func make() throws {
        var script = ""
        for i in 1 ... 4 {
            let speaker = (i - 1) % 2 + 1
            script += "[\(speaker)]: Line number \(i) of the tone conversation.\n"
            try CLI.writeTone(to: segments.appendingPathComponent(String(format: "%03d_speaker%d.wav", i, speaker)),
                              hertz: Double(200 + 40 * i))
        }
        try script.write(to: segments.appendingPathComponent("vibevoice-podcast-script.txt"), atomically: true,
                         encoding: .utf8)
        try CLI.succeed(["preprocess", "--input_path", root.appendingPathComponent("data").path,
                         "--output_path", preprocessed.path, "--model_id", CLI.model, "--num_context_turns", "2",
                         "--threads", "1"])
        try CLI.succeed(["train", "--preprocessed_path", preprocessed.path, "--output_dir", adapter.path,
                         "--model_id", CLI.model, "--max_steps", "4", "--learning_rate", "1e-2", "--warmup_steps", "0",
                         "--lora_r", "4", "--lora_alpha", "8", "--save_every", "0", "--gen_every", "0"] + CLI.cpu)
        guard FileManager.default.fileExists(atPath: adapter.appendingPathComponent("adapter_model.safetensors").path)
        else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: adapter.path]) }
    }
}

nonisolated(unsafe) private var sharedRoot: URL?
