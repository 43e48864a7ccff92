import Foundation
import Testing
import Torch
@testable import Training

/// Data-parallel training over c10d/Gloo as users launch it: `csm train --nproc 2`, and ranks
/// started by hand with torchrun's variables (what torchrun or SLURM does).
@Suite(.serialized) struct DistributedCLITests {
    let cli = TrainCLITests()
    var root: URL { cli.root }

    /// Two conversations (the tone conversation twice), so `--val_fraction` can hold one out.
    func preprocess() throws -> URL {
        let data = try cli.makeDataset()
        try FileManager.default.copyItem(at: data.appendingPathComponent("en/tones"),
                                         to: data.appendingPathComponent("en/tones2"))
        let pre = root.appendingPathComponent("pre")
        try cli.run(["preprocess", "--input_path", data.path, "--output_path", pre.path, "--model_id", TrainCLITests.model,
                     "--num_context_turns", "2"])
        return pre
    }

    /// Exact-comparison settings: f32 base weights (bf16 products round differently at different
    /// batch shapes), no dropout (each process draws its own), accumulation on, the depth decoder
    /// on a seeded half of the frames.
    func args(_ pre: URL, _ out: URL, batch: Int, steps: Int = 8) -> [String] {
        ["train", "--preprocessed_path", pre.path, "--output_dir", out.path, "--model_id", TrainCLITests.model,
         "--max_steps", "\(steps)", "--save_every", "4", "--batch_size", "\(batch)", "--gradient_accumulation_steps", "2",
         "--lora_r", "4", "--lora_alpha", "8", "--decoder_fraction", "0.5", "--learning_rate", "1e-3",
         "--gen_every", "0", "--device", "cpu", "--threads", "1", "--base_dtype", "f32"]
    }

    func metrics(_ out: URL, _ key: String) throws -> [Double] {
        try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).map { $0[key] as! Double }
    }

    /// With recomputed MLPs the gradients are averaged after backward, without by DDP's reducer during it.
    @Test(arguments: ["all", "none"]) func twoProcessesTrainAsOneWithTwiceTheBatch(recomputeMLP: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let pre = try preprocess()
        let one = root.appendingPathComponent("one"), two = root.appendingPathComponent("two")
        let settings = ["--val_fraction", "0.3", "--val_every", "4",  // 3 of 7 samples, sharded over ranks
                        "--recompute_mlp", recomputeMLP]
        try cli.run(args(pre, one, batch: 2) + settings)
        let log = try cli.run(args(pre, two, batch: 1) + settings + ["--nproc", "2"])
        #expect(log.contains("on 2 ranks (Gloo), gradients averaged " + (recomputeMLP == "none" ? "during" : "after")))

        for key in ["loss", "backbone_loss", "depth_loss", "grad_norm", "val_loss", "val_depth_loss"] {
            let rows = { (out: URL) in try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).compactMap { $0[key] as? Double } }
            let a = try rows(one), b = try rows(two)
            #expect(a.count == (key.hasPrefix("val") ? 2 : 8) && b.count == a.count, "\(key)")
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-5, "\(key): \(a) vs \(b)") }
        }
        let a = try Safetensors.read(one.appendingPathComponent("adapter_model.safetensors"))
        let b = try Safetensors.read(two.appendingPathComponent("adapter_model.safetensors"))
        #expect(a.count == 56 && Set(a.keys) == Set(b.keys))
        for (name, x) in a {
            let diff = try (x - b[name]!).abs().max().item()
            #expect(diff <= 1e-5, "\(name): \(diff)")
        }
        // Only rank 0 wrote: one metrics row per step, checkpoints complete.
        #expect(Checkpoint.latest(in: two)?.lastPathComponent == "checkpoint-8")
        #expect(try Checkpoint.loadState(Checkpoint.latest(in: two)!).worldSize == 2)

        // The sample order depends on the number of processes, so resuming needs the same number.
        let out = try cli.run(args(pre, two, batch: 1, steps: 12) + ["--resume"], expect: 1)
        #expect(out.contains("made by 2 process(es) and this run has 1"))
    }

    @Test func ctrlCOnTheLauncherSavesAndResumeEndsTheSame() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let pre = try preprocess()
        let straight = root.appendingPathComponent("straight"), stopped = root.appendingPathComponent("stopped")
        let steps = 24
        try cli.run(args(pre, straight, batch: 1, steps: steps) + ["--nproc", "2", "--save_every", "2"])

        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: TrainCLITests.csm)
        launcher.arguments = args(pre, stopped, batch: 1, steps: steps) + ["--nproc", "2", "--save_every", "2"]
        launcher.standardOutput = FileHandle.nullDevice
        launcher.standardError = FileHandle.nullDevice
        try launcher.run()
        let marker = stopped.appendingPathComponent("checkpoint-4/trainer_state.json").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: marker), launcher.isRunning, Date() < deadline { usleep(2_000) }
        kill(launcher.processIdentifier, SIGINT)
        launcher.waitUntilExit()
        #expect(launcher.terminationStatus == 130)
        let saved = try #require(Checkpoint.latest(in: stopped))
        let step = try Checkpoint.loadState(saved).globalStep
        #expect(step < steps, "the run finished before Ctrl-C")
        #expect(try metrics(stopped, "loss").count == step)

        try cli.run(args(pre, stopped, batch: 1, steps: steps) + ["--nproc", "2", "--save_every", "2", "--resume"])
        #expect(try metrics(stopped, "loss") == metrics(straight, "loss"))
        #expect(try Data(contentsOf: stopped.appendingPathComponent("adapter_model.safetensors"))
            == Data(contentsOf: straight.appendingPathComponent("adapter_model.safetensors")))
    }

    /// Starts `RANK=r` of 2 by hand, as torchrun would.
    func startRank(_ rank: Int, port: Int, _ arguments: [String], log: URL) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TrainCLITests.csm)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(
            ["RANK": "\(rank)", "LOCAL_RANK": "\(rank)", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
             "MASTER_PORT": "\(port)"]) { $1 }
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return p
    }

    @Test(arguments: [1, 0]) func aKilledRankStopsTheOtherNamingIt(killed: Int) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let pre = try preprocess()
        let out = root.appendingPathComponent("run")
        let port = try LocalLauncher.freePort()
        let arguments = args(pre, out, batch: 1, steps: 100_000) + ["--save_every", "2"]
        let logs = (0 ..< 2).map { root.appendingPathComponent("rank\($0).log") }
        let ranks = try (0 ..< 2).map { try startRank($0, port: port, arguments, log: logs[$0]) }
        defer { for p in ranks where p.isRunning { kill(p.processIdentifier, SIGKILL) } }

        let marker = out.appendingPathComponent("checkpoint-4/trainer_state.json").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: marker), ranks.allSatisfy(\.isRunning), Date() < deadline { usleep(20_000) }
        #expect(FileManager.default.fileExists(atPath: marker), "never reached step 4")
        kill(ranks[killed].processIdentifier, SIGKILL)
        let killedAt = Date()
        let survivor = ranks[1 - killed]
        while survivor.isRunning, Date().timeIntervalSince(killedAt) < 60 { usleep(50_000) }
        let seconds = Date().timeIntervalSince(killedAt)
        #expect(!survivor.isRunning, "rank \(1 - killed) still running 60 s after rank \(killed) was killed")
        survivor.waitUntilExit()
        #expect(survivor.terminationStatus != 0)
        let message = try String(contentsOf: logs[1 - killed], encoding: .utf8)
        #expect(message.contains("rank \(killed) stopped responding"), "\(message.suffix(600))")
        print("rank \(1 - killed) stopped \(String(format: "%.1f", seconds)) s after rank \(killed) was killed")

        // The last checkpoint is whole: it loads and can be resumed from.
        let last = try #require(Checkpoint.latest(in: out))
        let state = try Checkpoint.loadState(last)
        #expect(state.globalStep >= 4 && state.worldSize == 2)
        #expect(FileManager.default.fileExists(atPath: last.appendingPathComponent("adapter_model.safetensors").path))
    }

    @Test func ranksWithDifferentSettingsRefuseToTrain() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let pre = try preprocess()
        let out = root.appendingPathComponent("run"), port = try LocalLauncher.freePort()
        let logs = (0 ..< 2).map { root.appendingPathComponent("rank\($0).log") }
        let ranks = try (0 ..< 2).map { try startRank($0, port: port, args(pre, out, batch: 1 + $0), log: logs[$0]) }
        let started = Date()
        for p in ranks { p.waitUntilExit() }
        #expect(ranks.allSatisfy { $0.terminationStatus == 1 })
        #expect(Date().timeIntervalSince(started) < 60)
        let messages = try logs.map { try String(contentsOf: $0, encoding: .utf8) }
        #expect(messages[1].contains("rank 1 trains something else than rank 0: batch_size 2 (rank 0: 1)"), "\(messages[1])")
        #expect(messages[0].contains("rank(s) 1 train something else than rank 0"), "\(messages[0])")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("metrics.jsonl").path))
    }

    @Test func aRankWithoutPeersGivesUpAfterTheTimeout() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let pre = try preprocess()
        let log = root.appendingPathComponent("rank0.log")
        let started = Date()
        let p = try startRank(0, port: try LocalLauncher.freePort(),
                              args(pre, root.appendingPathComponent("run"), batch: 1) + ["--ddp_timeout", "3"], log: log)
        p.waitUntilExit()
        #expect(p.terminationStatus == 1)
        #expect(Date().timeIntervalSince(started) < 30)
        let message = try String(contentsOf: log, encoding: .utf8)
        #expect(message.contains("rank 0 of 2: could not form the process group"), "\(message)")
        #expect(message.contains("1/2 clients joined"), "\(message)")
    }
}
