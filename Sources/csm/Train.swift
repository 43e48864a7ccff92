import ArgumentParser
import CSM
import Dataset
import Foundation
import Hub
import Torch
import Training

/// `csm train`: the seed's train.py, every argument under its name and default (kebab-case too),
/// `--config FILE.yaml` with the same keys (flags win over the file, the file over defaults).
///
/// The settings are declared once, in `TrainConfig.Settings`; their flags are parsed, and their --help
/// made, from that table (`TrainConfig.Flags`, `TrainConfig.settingsHelp`). Only `--config` and `--nproc`,
/// which are not settings, are options of this command.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune CSM (LoRA, QLoRA or full) on a preprocessed dataset.",
        usage: "csm train <options>",
        discussion: TrainConfig.settingsHelp()
    )

    @Option(name: .both("config"), help: "YAML file with settings under the names above (flags win over it).") var config: String?
    @Option(name: .both("nproc"), help: "Train data-parallel in N local processes (as torchrun --nproc-per-node N; NCCL when every rank is on CUDA with the CUDA companion, else Gloo).") var nproc: Int?
    /// Every other argument: the setting flags, read by `TrainConfig.Flags`.
    @Argument(parsing: .allUnrecognized, help: .hidden) var settings: [String] = []

    /// The setting flags given; errors are usage errors, reported as swift-argument-parser reports its own.
    func flags() throws -> TrainConfig.Flags {
        do {
            return try TrainConfig.Flags(parsing: settings, otherOptions: ["--config", "--nproc"])
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
    }

    func validate() throws { _ = try flags() }

    /// Defaults, then the YAML file, then the flags that were given.
    func resolvedConfig() throws -> TrainConfig {
        var c = try config.map { try TrainConfig.load(yaml: URL(fileURLWithPath: $0)) } ?? TrainConfig()
        try flags().apply(to: &c)
        try c.validate()
        return c
    }

    func run() throws {
        // Before the first tensor: libtorch reads the huge-page setting at its first allocation.
        Runtime.tuneForTraining()
        if let nproc, nproc >= 1 {
            guard ProcessInfo.processInfo.environment["WORLD_SIZE"] == nil else {
                throw ValidationError("--nproc starts its own processes; it cannot run under torchrun or another launcher (WORLD_SIZE is set)")
            }
            _ = try resolvedConfig()  // report bad settings once, not from every process
            let launcher = LocalLauncher(processes: nproc, executable: try Self.executable(),
                                         arguments: LocalLauncher.withoutNproc(Array(CommandLine.arguments.dropFirst())))
            let status = try launcher.run()
            if status != 0 { throw ExitCode(status) }
            return
        }
        // Ctrl-C saved a checkpoint; say so with the shell's convention for SIGINT.
        if try TrainingRun(config: resolvedConfig()).run() == .interrupted { throw ExitCode(130) }
    }
}

extension Train {
    /// This program, for the workers of --nproc.
    static func executable() throws -> URL {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return URL(fileURLWithPath: path)
    }
}

extension NameSpecification {
    /// The seed's snake_case spelling plus its kebab-case twin (`--batch_size`, `--batch-size`).
    static func both(_ snake: String) -> NameSpecification {
        let kebab = snake.replacingOccurrences(of: "_", with: "-")
        return kebab == snake ? [.customLong(snake)] : [.customLong(snake), .customLong(kebab)]
    }
}
