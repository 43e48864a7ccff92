// train-bench: LoRA training steps of `csm train`'s Trainer on one sample, for scripts/bench.sh.
// Usage: train-bench MODEL_DIR SAMPLE_JSON [--steps 4] [--decoder-fraction 1.0] [--threads 2]
//          [--base-dtype bf16|f32] [--recompute-mlp none|depth|all] [--product native|upcast]
// Defaults are `csm train`'s; --product overrides the bf16 product chosen for this CPU (for measuring).
// The first step is a warm-up; prints one JSON line (seconds per step, losses, peak RSS).
import CSM
import Foundation
import Torch
import Training

var args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    defer { args.removeSubrange(i...(i + 1)) }
    return args[i + 1]
}
let steps = option("--steps").flatMap(Int.init) ?? 4
let fraction = option("--decoder-fraction").flatMap(Double.init) ?? 1.0
let baseDType = option("--base-dtype")
let recompute = option("--recompute-mlp")
let forcedProduct = option("--product").flatMap(FrozenProduct.init(rawValue:))
if let threads = option("--threads").flatMap(Int.init) { Runtime.threads = threads }
guard args.count == 2 else {
    FileHandle.standardError.write(Data(("usage: train-bench MODEL_DIR SAMPLE_JSON [--steps N] [--decoder-fraction F] [--threads N] "
        + "[--base-dtype bf16|f32] [--recompute-mlp all|depth|none] [--product native|upcast]\n").utf8))
    exit(2)
}

struct TurnJSON: Decodable { let speaker: Int, text_ids: [Int], codes: [[Int]] }
struct SampleJSON: Decodable { let turns: [TurnJSON] }

do {
    let json = try JSONDecoder().decode(SampleJSON.self, from: Data(contentsOf: URL(fileURLWithPath: args[1])))
    let sample = Sample(turns: json.turns.map { Turn(speaker: $0.speaker, textIds: $0.text_ids, codes: $0.codes) })
    let model = try CSMForConditionalGeneration.load(folder: URL(fileURLWithPath: args[0]), dtype: .f32)
    Runtime.manualSeed(0)
    var config = TrainConfig()
    config.baseDtype = baseDType
    if let recompute { config.recomputeMlp = recompute }
    try config.applyMemorySettings(to: model, device: .cpu, log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
    if let forcedProduct, config.baseDtype != "f32" { try model.storeDecoderLayers(as: .bf16, product: forcedProduct) }
    try model.applyLoRA(LoRAConfig(rank: 32, alpha: 32))
    model.setTraining(true)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("train-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: out) }
    config.preprocessedPath = "unused"
    config.outputDir = out.path
    config.batchSize = 1
    config.gradientAccumulationSteps = 1
    config.maxSteps = steps
    config.warmupSteps = 0
    config.lrSchedulerType = "constant"
    config.decoderFraction = fraction
    config.saveEvery = 0
    config.genEvery = 0
    let trainer = try Trainer(config: config, model: model, parameters: model.loraParameters, train: [sample],
                              io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }),
                              order: { _ in [[0]] })
    try trainer.run()
    let rows = try MetricsLog.read(out.appendingPathComponent("metrics.jsonl"))
    let times = rows.map { $0["s_per_step"] as! Double }
    let result: [String: Any] = [
        "impl": "csm-swift", "decoder_fraction": fraction, "threads": Runtime.threads,
        "positions": sample.turns.reduce(0) { $0 + $1.textIds.count + $1.codes.count + 1 },
        "step_seconds": times, "s_per_step": times.dropFirst().reduce(0, +) / Double(max(times.count - 1, 1)),
        "losses": rows.map { $0["loss"] as! Double },
        "peak_rss_bytes": Runtime.peakResidentBytes ?? -1, "base_dtype": config.baseDtype ?? "bf16", "recompute_mlp": config.recomputeMlp,
        "product": forcedProduct?.rawValue ?? (config.baseDtype == "f32" ? "f32" : FrozenProduct.fastest(on: .cpu).rawValue),
    ]
    print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("train-bench: \(error)\n".utf8))
    exit(1)
}
