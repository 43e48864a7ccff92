import Foundation
import Torch

/// Where training stands, saved in every `checkpoint-<step>/trainer_state.json` so `--resume`
/// continues exactly: the next batch, the schedule position, the optimizer moments.
///
/// Randomness needs no saved state: every optimizer step reseeds libtorch's generator (LoRA
/// dropout) and the decoder-fraction sampler from `(seed, step)`, so step k draws the same numbers
/// whether or not the run was interrupted before it.
public struct TrainerState: Codable, Equatable, Sendable {
    public var formatVersion = 1
    /// Optimizer steps completed.
    public var globalStep = 0
    /// Epoch of the next batch, and how many of that epoch's batches are done.
    public var epoch = 0
    public var batchInEpoch = 0
    public var totalSteps = 0
    /// Learning rate used by the last step, and its loss (for the log).
    public var lastLR = 0.0
    public var lastLoss: Double? = nil
    /// The settings the run was started with; `--resume` refuses a different data or model.
    public var config: TrainConfig
    /// Processes of a data-parallel run (nil: written by a single process); `--resume` needs the same.
    public var worldSize: Int? = nil

    public init(config: TrainConfig) { self.config = config }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", globalStep = "global_step", epoch, batchInEpoch = "batch_in_epoch"
        case totalSteps = "total_steps", lastLR = "last_lr", lastLoss = "last_loss", config
        case worldSize = "world_size"
    }
}

/// `checkpoint-<step>/` folders in the output directory.
public enum Checkpoint {
    public static let stateFile = "trainer_state.json"
    public static let optimizerFile = "optimizer.safetensors"

    public static func folder(_ outputDir: URL, step: Int) -> URL {
        outputDir.appendingPathComponent("checkpoint-\(step)")
    }

    /// Writes a complete checkpoint or nothing: everything goes into a hidden temporary folder
    /// that is renamed into place at the end, so a crash mid-save leaves the previous checkpoint
    /// as the latest one. `writeWeights` puts the adapter or model files into the given folder.
    @discardableResult
    public static func save(outputDir: URL, state: TrainerState, optimizer: AdamW,
                            writeWeights: (URL) throws -> Void) throws -> URL {
        let final = folder(outputDir, step: state.globalStep)
        let tmp = outputDir.appendingPathComponent(".checkpoint-\(state.globalStep).partial")
        let fm = FileManager.default
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        try writeWeights(tmp)
        try Safetensors.write(optimizer.stateTensors(), metadata: ["format": "pt"], to: tmp.appendingPathComponent(optimizerFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(state).write(to: tmp.appendingPathComponent(stateFile), options: .atomic)
        if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
        try fm.moveItem(at: tmp, to: final)
        return final
    }

    /// The complete checkpoint with the highest step, or nil.
    public static func latest(in outputDir: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputDir.path)) ?? []
        let steps = names.compactMap { name -> Int? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            let state = outputDir.appendingPathComponent(name).appendingPathComponent(stateFile)
            return FileManager.default.fileExists(atPath: state.path) ? step : nil
        }
        return steps.max().map { folder(outputDir, step: $0) }
    }

    public static func loadState(_ checkpoint: URL) throws -> TrainerState {
        let url = checkpoint.appendingPathComponent(stateFile)
        do {
            return try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: url))
        } catch {
            throw ConfigError("\(url.path): cannot read the trainer state (\(error))")
        }
    }

    public static func loadOptimizer(_ checkpoint: URL, into optimizer: AdamW) throws {
        try optimizer.loadStateTensors(Safetensors.read(checkpoint.appendingPathComponent(optimizerFile)))
    }
}
