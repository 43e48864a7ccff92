import CSM
import Dataset
import Foundation
import Testing
import TestSupport
import Torch

/// The Hugging Face ecosystem's own readers on what `csm train` and `csm merge` write (tools/checks, run in the
/// pinned Python stack tools/.venv): PEFT loads the trained adapter folder and reproduces our logits, transformers
/// loads the merged model with no missing or unexpected keys, and the `tensorboard` package reads the `runs/` scalars
/// that metrics.jsonl holds. Every check runs in one Python process (torch + transformers import once); each has a
/// deliberately broken twin that must fail, so a check that cannot fail does not pass unnoticed.
@Suite(.serialized, .enabled(if: PythonChecks.isAvailable, "tools/.venv missing: run make venv"))
struct EcosystemTests {
    typealias Outcome = PythonChecks.Outcome

    @Test func peftLoadsTheTrainedAdapterAndReproducesOurLogits() throws {
        let run = try EcosystemRun.shared()
        let good = run.outcome("peft"), perturbed = run.outcome("peft-perturbed")
        #expect(good.status == 0, "tools/checks/peft_adapter.py on the csm train output:\n\(good.output)")
        // Every input was compared (the check found each pair of inputs and logits we wrote).
        for name in ["text.logits", "frames.logits", "frames.depth_logits", "sample.logits"] {
            #expect(good.output.contains("\(name) "), "\(name) not compared:\n\(good.output)")
        }
        #expect(good.output.contains("PEFT wrapped 28 modules"), "\(good.output)")
        // Logits off by 1e-4 (relative) must fail it.
        #expect(perturbed.status == 1 && perturbed.output.contains("FAIL"), "\(perturbed.output)")
        #expect(perturbed.output.split(separator: "\n").contains { $0.hasPrefix("text.logits") && $0.hasSuffix("FAIL") },
                "\(perturbed.output)")
        print(good.output)
    }

    @Test func transformersLoadsTheMergedModelWithoutMissingOrUnexpectedKeys() throws {
        let run = try EcosystemRun.shared()
        let good = run.outcome("merged")
        #expect(good.status == 0, "tools/checks/merged_model.py on the csm merge output:\n\(good.output)")
        #expect(good.output.contains("no missing, unexpected or mismatched keys"), "\(good.output)")
        // The same folder with one weight taken out, or one weight too many, must fail with the key named.
        for (name, kind) in [("merged-missing", "missing_keys"), ("merged-unexpected", "unexpected_keys")] {
            let broken = run.outcome(name)
            #expect(broken.status == 1, "\(name):\n\(broken.output)")
            #expect(broken.output.contains(kind) && broken.output.contains(EcosystemRun.brokenKeys[name]!),
                    "\(name):\n\(broken.output)")
        }
        print(good.output)
    }

    @Test func tensorboardReadsTheScalarsOfMetricsJSONL() throws {
        let run = try EcosystemRun.shared()
        let good = run.outcome("tensorboard"), corrupt = run.outcome("tensorboard-corrupt")
        #expect(good.status == 0, "tools/checks/tensorboard_scalars.py on the csm train output:\n\(good.output)")
        // metrics.jsonl key K is TensorBoard tag train/K, for every float key but step.
        let rows = try MetricsRows.read(run.trained.adapter.appendingPathComponent("metrics.jsonl"))
        let keys = Set(rows.flatMap { $0.keys }).subtracting(["step"])
        #expect(keys.isSuperset(of: ["loss", "backbone_loss", "depth_loss", "lr", "grad_norm", "epoch"]), "\(keys)")
        for key in keys { #expect(good.output.contains("train/\(key) <- \(key)"), "\(key):\n\(good.output)") }
        let values = rows.reduce(0) { $0 + $1.keys.filter { $0 != "step" }.count }
        #expect(good.output.contains("compared \(values) scalars"), "\(good.output)")
        // One flipped byte in the last record: the reader stops there, the check says so.
        #expect(corrupt.status == 1 && corrupt.output.contains("tensorboard's reader stops after"), "\(corrupt.output)")
        print(good.output)
    }
}

enum MetricsRows {
    static func read(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }
}

/// Made once per test process: the shared `csm train` output (CLI.swift's `TrainedAdapter`), our logits of base +
/// adapter on fixed inputs, a `csm merge` of it, the broken twins, and one run of tools/checks/run_checks.py.
struct EcosystemRun {
    let trained: TrainedAdapter
    let root: URL
    let outcomes: [String: PythonChecks.Outcome]

    func outcome(_ name: String) -> PythonChecks.Outcome {
        outcomes[name] ?? PythonChecks.Outcome(status: -1, output: "no outcome for \(name)")
    }

    /// The weight taken out of, or added to, the merged model's safetensors.
    static let brokenKeys = ["merged-missing": "backbone_model.layers.0.mlp.down_proj.weight",
                             "merged-unexpected": "backbone_model.layers.0.mlp.extra_proj.weight"]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: Result<EcosystemRun, Error>?

    static func shared() throws -> EcosystemRun {
        lock.lock()
        defer { lock.unlock() }
        if made == nil { made = Result { try make() } }
        return try made!.get()
    }

    private static func make() throws -> EcosystemRun {
        let trained = try TrainedAdapter.shared()
        let root = try CLI.scratch("csm-ecosystem")
        atexit { ecosystemRoots.forEach { try? FileManager.default.removeItem(at: $0) } }
        ecosystemRoots.append(root)
        let base = URL(fileURLWithPath: CLI.model)

        // Our logits of base + adapter (as `csm generate --adapter` and `csm eval` load them).
        let logits = root.appendingPathComponent("logits.safetensors")
        try writeLogits(base: base, adapter: trained.adapter, preprocessed: trained.preprocessed, to: logits)
        let perturbed = root.appendingPathComponent("perturbed.safetensors")
        var tensors = try Safetensors.read(logits)
        tensors["text.logits"] = try (tensors["text.logits"]! * 1.0001).contiguous()
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: perturbed)

        let merged = root.appendingPathComponent("merged")
        try CLI.succeed(["merge", "--model_id", CLI.model, "--adapter", trained.adapter.path, "--output", merged.path])
        let weights = try Safetensors.read(merged.appendingPathComponent("model.safetensors"))
        var missing = weights, unexpected = weights
        missing[brokenKeys["merged-missing"]!] = nil
        unexpected[brokenKeys["merged-unexpected"]!] = try Tensor.zeros([4, 4])
        for (name, broken) in [("merged-missing", missing), ("merged-unexpected", unexpected)] {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for file in try FileManager.default.contentsOfDirectory(atPath: merged.path) where file != "model.safetensors" {
                try FileManager.default.copyItem(at: merged.appendingPathComponent(file),
                                                 to: folder.appendingPathComponent(file))
            }
            try Safetensors.write(broken, metadata: ["format": "pt"], to: folder.appendingPathComponent("model.safetensors"))
        }

        // The training logs with one bit flipped in the last event record's payload.
        let corrupt = root.appendingPathComponent("tensorboard-corrupt")
        try FileManager.default.createDirectory(at: corrupt, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: trained.adapter.appendingPathComponent("metrics.jsonl"),
                                         to: corrupt.appendingPathComponent("metrics.jsonl"))
        try FileManager.default.copyItem(at: trained.adapter.appendingPathComponent("runs"),
                                         to: corrupt.appendingPathComponent("runs"))
        let runs = corrupt.appendingPathComponent("runs")
        for file in try FileManager.default.contentsOfDirectory(atPath: runs.path) {
            var bytes = try Data(contentsOf: runs.appendingPathComponent(file))
            bytes[bytes.count - 10] ^= 1
            try bytes.write(to: runs.appendingPathComponent(file))
        }

        let adapter = trained.adapter.path, baseArg = ["--base", CLI.model]
        let outcomes = try PythonChecks.runAll([
            ("peft", "peft_adapter", baseArg + ["--adapter", adapter, "--logits", logits.path]),
            ("peft-perturbed", "peft_adapter", baseArg + ["--adapter", adapter, "--logits", perturbed.path]),
            ("merged", "merged_model", baseArg + ["--adapter", adapter, "--merged", merged.path]),
            ("merged-missing", "merged_model",
             baseArg + ["--adapter", adapter, "--merged", root.appendingPathComponent("merged-missing").path]),
            ("merged-unexpected", "merged_model",
             baseArg + ["--adapter", adapter, "--merged", root.appendingPathComponent("merged-unexpected").path]),
            ("tensorboard", "tensorboard_scalars", [adapter]),
            ("tensorboard-corrupt", "tensorboard_scalars", [corrupt.path]),
        ])
        return EcosystemRun(trained: trained, root: root, outcomes: outcomes)
    }

    /// Base + adapter loaded by our loaders (f32), run on fixed inputs; written with the inputs for
    /// tools/checks/peft_adapter.py: text ids, audio frames (backbone and depth-decoder logits) and preprocessed
    /// sample 2 (its turns as JSON in the metadata).
    static func writeLogits(base: URL, adapter: URL, preprocessed: URL, to file: URL) throws {
        let model = try CSMForConditionalGeneration.load(folder: base, dtype: .f32)
        try PEFTAdapter.load(adapter, into: model)
        let c = model.config, k = c.numCodebooks
        var state: UInt64 = 7
        func next(_ bound: Int) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(bound))
        }
        let textIds = [Int64(c.bosTokenId ?? 0)] + (0 ..< 11).map { _ in next(c.textVocabSize) }
        let frames = 6
        let codes = (0 ..< frames * k).map { _ in next(c.vocabSize - 3) }
        let sample = try PreprocessedDataset(preprocessed).sample(2)
        var tensors: [String: Tensor] = try withNoGrad {
            let ids = try Tensor(textIds, shape: [1, textIds.count])
            let textHidden = try model.backboneModel(inputsEmbeds: model.embedTextTokens(ids), mask: nil)
            let frameIds = try Tensor(codes, shape: [1, frames, k])
            let frameHidden = try model.backboneModel(inputsEmbeds: model.backboneModel.embedTokens(frameIds), mask: nil)
            return [
                "text.input_ids": ids,
                "text.logits": try model.lmHead(textHidden),
                "frames.input_ids": frameIds,
                "frames.logits": try model.lmHead(frameHidden),
                "frames.depth_logits": try model.depthLogits(backboneHidden: frameHidden.squeeze(0),
                                                             codes: frameIds.squeeze(0).narrow(1, 0, k - 1)),
                "sample.logits": try model.forward(CSMBatch(samples: [sample], config: c)).logits.squeeze(0),
            ]
        }
        tensors = try tensors.mapValues { try $0.contiguous() }
        let turns = sample.turns.map { ["speaker": $0.speaker, "text_ids": $0.textIds, "codes": $0.codes] as [String: Any] }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: turns), as: UTF8.self)
        try Safetensors.write(tensors, metadata: ["format": "pt", "sample": json], to: file)
    }
}

nonisolated(unsafe) private var ecosystemRoots: [URL] = []
