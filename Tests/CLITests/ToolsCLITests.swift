import Audio
import Dataset
import Foundation
import Testing
import Tokenizer
import Torch

/// `csm tokenize`, `csm encode`, `csm merge` and `csm eval` as users run them (the built binary, in
/// processes) on the tiny demo model; and every subcommand's answer to a model folder that is not there.
@Suite(.serialized) struct ToolsCLITests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-tools-\(UUID())")

    func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Any {
        do { return try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            Issue.record("not JSON: \(error)\n\(text.prefix(2_000))", sourceLocation: sourceLocation)
            throw error
        }
    }

    // MARK: tokenize

    @Test func tokenizePrintsTheTokenizersIdsAsJSON() throws {
        let tokenizer = try Tokenizer(folder: URL(fileURLWithPath: CLI.model))
        let texts = ["Hello there.", "Guten Tag, das ist das zusammengeführte Modell.",
                     "  Numbers 1234, émojis 🎉 and\na second line. "]
        for text in texts {
            let r = try CLI.succeed(["tokenize", "--model_id", CLI.model, "--text", text])
            let ids = try json(r.stdout) as? [Int]
            #expect(ids == tokenizer.encode(text, addSpecialTokens: true), "\(text)")
            // The template's bos/eos around the text, as transformers' tokenizer(text).
            #expect(ids?.first == tokenizer.bosId && ids?.last == tokenizer.eosId && (ids?.count ?? 0) > 2, "\(text)")
        }
        // Empty text is not an error here: tokenizer("") gives the template alone, bos and eos.
        let r = try CLI.succeed(["tokenize", "--model_id", CLI.model, "--text", ""])
        #expect(try json(r.stdout) as? [Int] == [tokenizer.bosId!, tokenizer.eosId!])
    }

    @Test func tokenizeNamesAMissingTokenizerFile() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try CLI.fail(["tokenize", "--model_id", root.path, "--text", "Hello."],
                     mentioning: [root.appendingPathComponent("tokenizer.json").path, "no such file"])
    }

    // MARK: encode

    /// Frames × codebooks, checked to be a rectangle of codes in the codec's range.
    func codes(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[Int]] {
        let frames = try json(text, sourceLocation: sourceLocation) as? [[Int]] ?? []
        // The demo model: num_codebooks 8, codebook_size 64. One frame per 80 ms, the last one partial.
        #expect(frames.allSatisfy { $0.count == 8 }, "\(frames.map(\.count))", sourceLocation: sourceLocation)
        #expect(frames.joined().allSatisfy { (0 ..< 64).contains($0) }, sourceLocation: sourceLocation)
        return frames
    }

    @Test func encodePrintsTheMimiCodesPreprocessTrainsOn() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let trained = try TrainedAdapter.shared()
        // Segment 1 of the shared conversation: the first turn of preprocessed sample 0.
        let wav = trained.segments.appendingPathComponent("001_speaker1.wav")
        let r = try CLI.succeed(["encode", "--model_id", CLI.model, "--input", wav.path] + CLI.cpu)
        let frames = try codes(r.stdout)
        #expect(frames.count == 13, "1 s at 12.5 frames/s")
        let sample = try PreprocessedDataset(trained.preprocessed).sample(0)
        #expect(sample.turns.count == 1)
        #expect(frames == sample.turns.first?.codes, "csm encode and csm preprocess disagree on \(wav.path)")

        // Any rate and channel count: down-mixed and resampled to 24 kHz first.
        let stereo = root.appendingPathComponent("stereo 48k.wav")
        try CLI.writeTone(to: stereo, seconds: 1, sampleRate: 48_000, channels: 2)
        #expect(try codes(CLI.succeed(["encode", "--model_id", CLI.model, "--input", stereo.path] + CLI.cpu).stdout)
            .count == 13)
    }

    @Test func encodeNamesUnreadableAudio() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("folder.wav")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = root.appendingPathComponent("x.wav")
        try "this is text, not audio".write(to: text, atomically: true, encoding: .utf8)
        let empty = root.appendingPathComponent("empty.wav")
        try CLI.writeTone(to: empty, seconds: 0)
        let missing = root.appendingPathComponent("missing.wav")
        for (file, problem) in [(folder, "it is a directory"), (text, "not an audio file"), (empty, "0 frames"),
                                (missing, "no such file")] {
            try CLI.fail(["encode", "--model_id", CLI.model, "--input", file.path] + CLI.cpu,
                         mentioning: [file.path, problem])
        }
    }

    // MARK: merge and eval

    func eval(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try CLI.succeed(["eval"] + args + CLI.cpu, sourceLocation: sourceLocation)
        let result = try json(r.stdout, sourceLocation: sourceLocation) as? [String: Any] ?? [:]
        #expect(Set(result.keys) == ["loss", "backbone_loss", "depth_loss", "frames", "samples"], "\(result)",
                sourceLocation: sourceLocation)
        let loss = result["loss"] as? Double ?? .nan
        let parts = (result["backbone_loss"] as? Double ?? .nan) + (result["depth_loss"] as? Double ?? .nan)
        #expect(loss.isFinite && loss > 0 && abs(loss - parts) < 1e-6, "\(result)", sourceLocation: sourceLocation)
        #expect(result["samples"] as? Int == 4 && (result["frames"] as? Int ?? 0) > 0, "\(result)",
                sourceLocation: sourceLocation)
        return result
    }

    @Test func evalWritesTheMeanLossAsJSON() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let trained = try TrainedAdapter.shared()
        let out = root.appendingPathComponent("results/eval.json")
        let result = try eval(["--model_id", CLI.model, "--adapter", trained.adapter.path,
                               "--preprocessed_path", trained.preprocessed.path, "--output", out.path])
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any] ?? [:]
        #expect(NSDictionary(dictionary: written).isEqual(to: result), "--output holds what was printed")
    }

    @Test func evalNamesAMissingDatasetAndKeepsTheLastResultOnFailure() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let trained = try TrainedAdapter.shared()
        let missing = root.appendingPathComponent("never-preprocessed")
        try CLI.fail(["eval", "--model_id", CLI.model, "--preprocessed_path", missing.path] + CLI.cpu,
                     mentioning: [missing.path, "run `csm preprocess` first"])

        let out = root.appendingPathComponent("eval.json")
        try CLI.succeed(["eval", "--model_id", CLI.model, "--preprocessed_path", trained.preprocessed.path,
                         "--output", out.path] + CLI.cpu)
        let before = try Data(contentsOf: out)
        let broken = try brokenAdapter()
        try CLI.fail(["eval", "--model_id", CLI.model, "--adapter", broken.path, "--preprocessed_path",
                      trained.preprocessed.path, "--output", out.path] + CLI.cpu,
                     mentioning: [broken.appendingPathComponent("adapter_model.safetensors").path])
        #expect(try Data(contentsOf: out) == before, "a failed eval must leave the earlier result alone")
    }

    /// The trained adapter's config with a weights file that is not safetensors.
    func brokenAdapter() throws -> URL {
        let folder = root.appendingPathComponent("broken-adapter")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TrainedAdapter.shared().adapter.appendingPathComponent("adapter_config.json"),
                                         to: folder.appendingPathComponent("adapter_config.json"))
        try "garbage".write(to: folder.appendingPathComponent("adapter_model.safetensors"), atomically: true,
                            encoding: .utf8)
        return folder
    }

    @Test func mergeWritesAModelFolderThatEvalAndGenerateLoad() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let trained = try TrainedAdapter.shared()
        let merged = root.appendingPathComponent("merged")
        let r = try CLI.succeed(["merge", "--model_id", CLI.model, "--adapter", trained.adapter.path,
                                 "--output", merged.path])
        #expect(r.stdout.contains("merged 28 LoRA adapters (r=4, alpha=8.0)") && r.stdout.contains(merged.path),
                "\(r.stdout)")
        let base = URL(fileURLWithPath: CLI.model)
        for name in ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json", "processor_config.json", "chat_template.jinja"] {
            #expect(try Data(contentsOf: merged.appendingPathComponent(name)) == Data(contentsOf: base.appendingPathComponent(name)),
                    "\(name)")
        }
        // Every base tensor (the codec's included) under its name, dtype and shape; the adapted ones changed.
        let a = try Safetensors.read(base.appendingPathComponent("model.safetensors"))
        let b = try Safetensors.read(merged.appendingPathComponent("model.safetensors"))
        #expect(Set(a.keys) == Set(b.keys) && a.keys.contains { $0.hasPrefix("codec_model.") })
        var changed: [String] = []
        for (name, x) in a {
            guard let y = b[name], y.dtype == x.dtype, y.shape == x.shape else {
                Issue.record("\(name): missing or reshaped in the merged model")
                continue
            }
            if try (x - y).abs().max().item() > 0 { changed.append(name) }
        }
        #expect(changed.count == 28 && changed.allSatisfy { !$0.hasPrefix("codec_model.") }, "\(changed.sorted())")

        // The merged folder alone gives the losses of base + adapter (float32 rounding apart), not the base's.
        let data = ["--preprocessed_path", trained.preprocessed.path]
        let mergedLoss = try eval(["--model_id", merged.path] + data)["loss"] as? Double ?? .nan
        let adapterLoss = try eval(["--model_id", CLI.model, "--adapter", trained.adapter.path] + data)["loss"]
            as? Double ?? .nan
        let baseLoss = try eval(["--model_id", CLI.model] + data)["loss"] as? Double ?? .nan
        #expect(abs(mergedLoss - adapterLoss) < 1e-4, "merged \(mergedLoss) vs base + adapter \(adapterLoss)")
        #expect(abs(mergedLoss - baseLoss) > 1e-3, "merged \(mergedLoss) vs base \(baseLoss): the adapter did nothing")

        let wav = root.appendingPathComponent("merged.wav")
        try CLI.succeed(["generate", "--model_id", merged.path, "--text", "Guten Tag.", "--output", wav.path,
                         "--max_audio_seconds", "0.5", "--seed", "1"] + CLI.cpu)
        #expect(try AudioFile.info(wav).sampleRate == 24_000)
    }

    @Test func failedMergeKeepsWhatIsThere() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let trained = try TrainedAdapter.shared()
        // An earlier merge's output, then merges into it that fail.
        let merged = root.appendingPathComponent("merged")
        try CLI.succeed(["merge", "--model_id", CLI.model, "--adapter", trained.adapter.path, "--output", merged.path])
        let before = try CLI.snapshot(merged)
        #expect(before.count == 8)

        let broken = try brokenAdapter()
        try CLI.fail(["merge", "--model_id", CLI.model, "--adapter", broken.path, "--output", merged.path],
                     mentioning: [broken.appendingPathComponent("adapter_model.safetensors").path, "not a valid safetensors"])
        let missing = root.appendingPathComponent("no-adapter")
        try CLI.fail(["merge", "--model_id", CLI.model, "--adapter", missing.path, "--output", merged.path],
                     mentioning: [missing.appendingPathComponent("adapter_config.json").path])
        #expect(try CLI.snapshot(merged) == before, "a failed merge must leave the existing folder alone")

        // Merging over the base itself is refused before anything is written.
        let base = root.appendingPathComponent("base")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: CLI.model), to: base)
        let original = try CLI.snapshot(base)
        try CLI.fail(["merge", "--model_id", base.path, "--adapter", trained.adapter.path, "--output", base.path + "/"],
                     mentioning: ["--output must differ from the base model folder"])
        #expect(try CLI.snapshot(base) == original, "the base model folder must be left alone")

        // An existing file where the folder should go is named before the model loads, and kept.
        let file = root.appendingPathComponent("merged.txt")
        try Data("keep me".utf8).write(to: file)
        try CLI.fail(["merge", "--model_id", CLI.model, "--adapter", trained.adapter.path, "--output", file.path],
                     mentioning: ["--output \(file.path) is an existing file"])
        #expect(try Data(contentsOf: file) == Data("keep me".utf8))
    }

    /// An output path that cannot be written is refused before the work, not after it.
    @Test func unwritableOutputsAreRefusedUpFront() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let trained = try TrainedAdapter.shared()
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let folder = root.path
        try CLI.fail(["generate", "--model_id", CLI.model, "--text", "Hello.", "--output", folder] + CLI.cpu,
                     mentioning: ["--output \(folder) is a folder"])
        try CLI.fail(["eval", "--model_id", CLI.model, "--preprocessed_path", trained.preprocessed.path,
                      "--output", folder] + CLI.cpu, mentioning: ["--output \(folder) is a folder"])
    }

    // MARK: quantize

    @Test(arguments: [["--quantize", "int8"], ["--quantize", "int4", "--group_size", "32"]])
    func quantizedFolderGeneratesWhatQuantizingAtLoadDoes(_ args: [String]) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("quantized")
        let r = try CLI.succeed(["quantize", "--model_id", CLI.model, "--output", folder.path] + args)
        #expect(r.stdout.contains("quantized 28 projections of \(CLI.model)") && r.stdout.contains(folder.path), "\(r.stdout)")
        let description = try json(String(decoding: Data(contentsOf: folder.appendingPathComponent("quantization.json")),
                                          as: UTF8.self)) as? [String: Any]
        #expect(description?["scheme"] as? String == args[1] && (description?["projections"] as? [String])?.count == 28)
        let stored = try Safetensors.read(folder.appendingPathComponent("model.safetensors"))
        let q = "backbone_model.layers.0.self_attn.q_proj"
        #expect(stored[q + ".weight"] == nil && stored[q + ".qweight"]?.dtype == (args[1] == "int8" ? .i8 : .u8))
        #expect(stored["lm_head.weight"] != nil && stored.keys.contains { $0.hasPrefix("codec_model.") })
        // The stored codes are the ones quantizing at load makes: the same audio for the same seed.
        let fromFolder = root.appendingPathComponent("folder.wav"), atLoad = root.appendingPathComponent("load.wav")
        let common = ["--text", "Hello there.", "--max_audio_seconds", "0.5", "--seed", "3", "--dtype", "f32"] + CLI.cpu
        try CLI.succeed(["generate", "--model_id", folder.path, "--output", fromFolder.path] + common)
        try CLI.succeed(["generate", "--model_id", CLI.model, "--output", atLoad.path] + common + args)
        #expect(try Data(contentsOf: fromFolder) == Data(contentsOf: atLoad))
    }

    // MARK: every subcommand

    @Test(arguments: ["generate", "serve", "merge", "quantize", "eval", "tokenize", "encode"])
    func aMissingModelFolderIsNamed(_ command: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let trained = try TrainedAdapter.shared()
        let model = root.appendingPathComponent("no-such-model").path
        let output = root.appendingPathComponent("out")
        let args: [String] = switch command {
        case "generate": ["--text", "Hello.", "--output", output.path + ".wav"] + CLI.cpu
        case "serve": ["--port", "0"] + CLI.cpu
        case "merge": ["--adapter", trained.adapter.path, "--output", output.path]
        case "quantize": ["--quantize", "int8", "--output", output.path]
        case "eval": ["--preprocessed_path", trained.preprocessed.path, "--output", output.path + ".json"] + CLI.cpu
        case "tokenize": ["--text", "Hello."]
        default: ["--input", trained.segments.appendingPathComponent("001_speaker1.wav").path] + CLI.cpu
        }
        try CLI.fail([command, "--model_id", model] + args, mentioning: ["model folder '\(model)' does not exist"])
        #expect(!FileManager.default.fileExists(atPath: root.path), "\(command) wrote something: \((try? FileManager.default.subpathsOfDirectory(atPath: root.path)) ?? [])")
    }

    /// The subcommands with no device to choose: tokenize (a pure-Swift tokenizer, no libtorch) and quantize
    /// (it writes libtorch's packed CPU layout, so it runs on the CPU). Every other one takes `--device` with
    /// the default `auto`, and `--threads`.
    static let withoutDevice: Set<String> = ["tokenize", "quantize"]

    /// The subcommands `csm --help` lists (CSM.swift's `subcommands`), without `help`.
    static func subcommands() throws -> [String] {
        let help = try CLI.succeed(["--help"]).stdout
        let lines = help.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("SUBCOMMANDS:") }) else { return [] }
        // A name starts its line after two spaces; its abstract may wrap onto further, deeper-indented lines.
        return lines[(start + 1)...].prefix { $0.hasPrefix("  ") }
            .filter { !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0 != "help" }
    }

    /// The text `--help` gives one option: its line and the indented lines that continue it.
    static func optionHelp(_ help: String, _ option: String) -> String? {
        let lines = help.components(separatedBy: "\n")
        guard let i = lines.firstIndex(where: {
            $0.trimmingCharacters(in: .whitespaces).hasPrefix(option + " ")
                || $0.trimmingCharacters(in: .whitespaces).hasPrefix(option + ",")
                || $0.contains(", " + option + " ")
        }) else { return nil }
        let continued = lines[(i + 1)...].prefix { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            return !text.isEmpty && !text.hasPrefix("-") && line.hasPrefix(String(repeating: " ", count: 8))
        }
        return ([lines[i]] + continued).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    @Test func everySubcommandTakesTheSameDeviceOption() throws {
        let names = try Self.subcommands()
        #expect(Set(names).isSuperset(of: ["preprocess", "train", "generate", "merge", "eval", "tokenize", "encode"]),
                "\(names)")
        for name in names where !Self.withoutDevice.contains(name) {
            let help = try CLI.succeed([name, "--help"]).stdout
            let device = Self.optionHelp(help, "--device")
            #expect(device?.contains("(default: auto)") == true, "csm \(name) --help: --device \(device ?? "missing")")
            #expect(device.map { text in ["cpu", "cuda", "cuda:N", "mps"].allSatisfy(text.contains) } == true,
                    "csm \(name) --help: \(device ?? "")")
            #expect(Self.optionHelp(help, "--threads") != nil, "csm \(name) --help has no --threads")
        }
        for name in Self.withoutDevice {
            #expect(Self.optionHelp(try CLI.succeed([name, "--help"]).stdout, "--device") == nil)
        }
    }
}
