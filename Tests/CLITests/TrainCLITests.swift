import Audio
import CSM
import Dataset
import Foundation
import SpeechEvaluation
import Testing
import TestSupport
import Tokenizer
@testable import Training

/// `csm preprocess` then `csm train` as a user runs them (the built binary, in processes), on a
/// synthetic dataset and the tiny demo model: an uninterrupted run, a run killed with SIGKILL and
/// resumed, and a run stopped with SIGINT (Ctrl-C) and resumed must end identically.
@Suite(.serialized) struct TrainCLITests {
    static let model = CLI.model
    static let csm = CLI.csm

    let root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())")

    /// One conversation of 8 one-second tones, alternating speakers.
    func makeDataset() throws -> URL {
        let segments = root.appendingPathComponent("data/en/tones/segments")
        try FileManager.default.createDirectory(at: segments, withIntermediateDirectories: true)
        var script = ""
        for i in 1 ... 8 {
            let speaker = (i - 1) % 2 + 1
            script += "[\(speaker)]: Line number \(i) of the tone conversation.\n"
            let samples = (0 ..< 24_000).map { Float(0.3 * sin(Double($0) * Double(200 + 40 * i) * 2 * .pi / 24_000)) }
            try WAVWriter.write(samples, sampleRate: 24_000, channels: 1, encoding: .pcm16,
                                to: segments.appendingPathComponent(String(format: "%03d_speaker%d.wav", i, speaker)))
        }
        try script.write(to: segments.appendingPathComponent("vibevoice-podcast-script.txt"), atomically: true, encoding: .utf8)
        return root.appendingPathComponent("data")
    }

    /// Runs `csm args`, expects exit status `status`, returns stdout and stderr interleaved.
    @discardableResult
    func run(_ args: [String], expect status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try CLI.run(args, expect: status, sourceLocation: sourceLocation)
    }

    func trainArgs(_ preprocessed: URL, _ out: URL) -> [String] {
        ["train", "--preprocessed_path", preprocessed.path, "--output_dir", out.path, "--model_id", Self.model,
         "--max_steps", "40", "--save_every", "4", "--batch_size", "1", "--gradient_accumulation_steps", "2",
         "--lora_r", "4", "--lora_alpha", "8", "--lora_dropout", "0.1", "--decoder_fraction", "0.5",
         "--learning_rate", "1e-3", "--gen_every", "0", "--device", "cpu", "--threads", "1"]
    }

    /// Starts training, waits for `checkpoint-8`, sends `signal`, waits for the process to end.
    func interrupt(_ args: [String], out: URL, with signal: Int32) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.csm)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        let marker = out.appendingPathComponent("checkpoint-8/trainer_state.json").path
        while !FileManager.default.fileExists(atPath: marker), p.isRunning, Date() < deadline { usleep(2_000) }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        return p.terminationStatus
    }

    func losses(_ out: URL) throws -> [String] {
        // Compared as text: the resumed run must reproduce every digit.
        try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { line in
                let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                return "\(row["step"]!) \(row["loss"]!) \(row["grad_norm"]!)"
            }
    }

    @Test func killedAndInterruptedRunsResumeToTheSameResult() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.csm) else {
            Issue.record("csm binary not found at \(Self.csm); build with swift build --build-tests")
            return
        }
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try makeDataset()
        let pre = root.appendingPathComponent("pre")
        try run(["preprocess", "--input_path", data.path, "--output_path", pre.path, "--model_id", Self.model,
                 "--num_context_turns", "2"])

        let straight = root.appendingPathComponent("straight")
        try run(trainArgs(pre, straight))
        let reference = try losses(straight)
        #expect(reference.count == 40)
        let adapter = try Data(contentsOf: straight.appendingPathComponent("adapter_model.safetensors"))

        for (name, sig, status) in [("killed", SIGKILL, Int32(SIGKILL)), ("ctrl-c", SIGINT, Int32(130))] {
            let out = root.appendingPathComponent(name)
            let code = try interrupt(trainArgs(pre, out), out: out, with: sig)
            #expect(code == status, "\(name): exit status \(code)")
            #expect(try losses(out).count < 40, "\(name): the run finished before it was interrupted")
            try run(trainArgs(pre, out) + ["--resume"])
            #expect(try losses(out) == reference, "\(name)")
            #expect(try Data(contentsOf: out.appendingPathComponent("adapter_model.safetensors")) == adapter, "\(name)")
        }
    }

    @Test func maskSpeakerIdsTrainsOnTextWithoutTheSpeakerPrefix() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try makeDataset()
        let pre = root.appendingPathComponent("pre")
        try run(["preprocess", "--input_path", data.path, "--output_path", pre.path, "--model_id", Self.model,
                 "--num_context_turns", "2"])
        let dataset = try PreprocessedDataset(pre)
        let tokenizer = try Tokenizer(folder: URL(fileURLWithPath: Self.model))
        var masking = try SpeakerMasking(dataset: dataset, tokenizer: tokenizer)
        let plain = try dataset.sample(3), masked = try masking.sample(3, contextTurns: nil)
        #expect(masked.turns.count == plain.turns.count && masked.turns.count == 3)
        for (i, (m, p)) in zip(masked.turns, plain.turns).enumerated() {
            let line = 2 + i  // sample 3's turns are script lines 2, 3, 4
            #expect(m.textIds == tokenizer.encode("Line number \(line) of the tone conversation."))
            #expect(p.textIds == tokenizer.encode("[\(p.speaker)]Line number \(line) of the tone conversation."))
            #expect(m.codes == p.codes && m.speaker == p.speaker)
        }
        let out = root.appendingPathComponent("masked")
        try run(["train", "--preprocessed_path", pre.path, "--output_dir", out.path, "--model_id", Self.model,
                 "--max_steps", "2", "--mask_speaker_ids", "--save_every", "0", "--gen_every", "0", "--threads", "1"])
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("adapter_model.safetensors").path))
    }

    /// `--eval_speech_every` in a `--mask_speaker_ids` run prompts the model as it was trained: no `[K]` in the
    /// text of the context turns nor of the sentence to speak (and with the prefix in a run that keeps it).
    @Test func maskSpeakerIdsAlsoLeavesTheSpeakerPrefixOutOfSpeechEvalPrompts() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try makeDataset()
        let pre = root.appendingPathComponent("pre")
        try run(["preprocess", "--input_path", data.path, "--output_path", pre.path, "--model_id", Self.model,
                 "--num_context_turns", "2"])
        let folder = URL(fileURLWithPath: Self.model)
        let dataset = try PreprocessedDataset(pre)
        let tokenizer = try Tokenizer(folder: folder)
        let model = try CSMForConditionalGeneration.load(folder: folder, dtype: .f32, device: .cpu)
        for masked in [true, false] {
            var config = TrainConfig()
            config.maskSpeakerIds = masked
            config.evalSpeechEvery = 1
            config.evalSpeechSentences = 3
            config.speakerModel = fixturesFolder.appendingPathComponent("wavlm/group").path
            let hook = try SpeechEvalHook(config: config, model: model, modelFolder: folder, dataset: dataset,
                                          candidates: Array(0 ..< dataset.count), device: .cpu, outputDir: root,
                                          log: { _ in })
            #expect(hook.evaluator.sentences.count == 3)
            for sentence in hook.evaluator.sentences {
                let turns = sentence.prompt.context.map { ($0.speaker, $0.textIds) }
                    + [(sentence.speaker, sentence.prompt.textIds)]
                for (speaker, ids) in turns {
                    let text = tokenizer.decode(ids, skipSpecialTokens: true), prefix = masked ? "" : "[\(speaker)]"
                    #expect(text.hasPrefix(prefix + "Line number "), "masked \(masked): \(text)")
                    #expect(ids == tokenizer.encode(text), "masked \(masked): \(ids)")
                }
                #expect(sentence.text.hasPrefix("Line number "))
            }
            #expect(hook.evaluator.sentences.contains { !$0.prompt.context.isEmpty })
        }
    }

    @Test func badArgumentsFailClearly() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var out = try run(["train", "--output_dir", root.path], expect: 1)
        #expect(out.contains("--preprocessed_path is required"))
        out = try run(["train", "--preprocessed_path", root.appendingPathComponent("nope").path, "--max-steps", "1"],
                      expect: 1)
        #expect(out.contains("nope"))
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let yaml = root.appendingPathComponent("c.yaml")
        try "batch_sise: 3\n".write(to: yaml, atomically: true, encoding: .utf8)
        out = try run(["train", "--config", yaml.path], expect: 1)
        #expect(out.contains("unknown setting 'batch_sise'"))
    }

    /// The flags and --help come from `TrainConfig.settings`: every setting is listed with its default, and
    /// the binary takes every one of them, in either spelling.
    @Test func helpAndFlagsCoverEverySetting() throws {
        let help = try run(["train", "--help"]).split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        for setting in TrainConfig.settings {
            #expect(help.contains(setting.flagNames.joined(separator: ", ")), "\(setting.key)")
            if let text = setting.defaultText { #expect(help.contains("(default: \(text))"), "\(setting.key)") }
        }
        #expect(help.contains("--config <config>") && help.contains("--nproc <nproc>"))
        // Every setting, alternately snake_case and kebab-case; --full_finetune with --load_in_4bit fails the
        // validation that follows parsing, so nothing runs.
        var args = ["train"]
        for (i, setting) in TrainConfig.settings.enumerated() {
            let name = setting.flagNames[i % setting.flagNames.count]
            let value = setting.value(in: TrainConfig())
            args += setting.isFlag ? [name] : [name, value.displayText ?? (setting.valueName == "int" ? "3" : "x")]
        }
        let out = try run(args, expect: 1)
        #expect(out.contains("--full_finetune and --load_in_4bit cannot be combined"), "\(out)")
        // Mistyped flags are usage errors, as swift-argument-parser reports them.
        let typo = try CLI.exec(["train", "--batch_sise", "3"])
        #expect(typo.status == 64 && typo.stderr.contains("Unknown option '--batch_sise'. Did you mean '--batch_size'?"))
    }
}
