// generation-bench: frames per second and real-time factor of `Generator` on a CSM folder (random weights do:
// no early stop), on the prompt tools/bench/generation.py gives transformers. Run by scripts/bench_generation.sh.
//
//   generation-bench --model DIR [--frames 125] [--dtype f32|bf16] [--threads N] [--device cpu]
import CSM
import Foundation
import Torch

var arguments = CommandLine.arguments.dropFirst().makeIterator()
var model: String?, frames = 125, dtypeName = "f32", threads: Int?, device = "cpu"
while let arg = arguments.next() {
    switch arg {
    case "--model": model = arguments.next()
    case "--frames": frames = arguments.next().flatMap { Int($0) } ?? frames
    case "--dtype": dtypeName = arguments.next() ?? dtypeName
    case "--threads": threads = arguments.next().flatMap { Int($0) }
    case "--device": device = arguments.next() ?? device
    default:
        FileHandle.standardError.write(Data("usage: generation-bench --model DIR [--frames N] [--dtype f32|bf16] [--threads N]\n".utf8))
        exit(2)
    }
}
guard let model, let dtype = DType(name: dtypeName) else { print("--model DIR and a valid --dtype are required"); exit(2) }
if let threads { Runtime.threads = threads }

/// The same ids as tools/bench/generation.py: `<bos>` + 30 fixed text ids + `<eos>`.
let textIds = [128_000] + (0..<30).map { ($0 * 7919) % 30_000 + 1000 } + [128_001]

let loadStart = Date()
let csm = try CSMForConditionalGeneration.load(folder: URL(fileURLWithPath: model), dtype: dtype,
                                               device: Device.parse(device))
let loadSeconds = Date().timeIntervalSince(loadStart)
let options = Generator.Options(maxFrames: frames, settings: GenerationSettings(), seed: 0)
let generator = Generator(model: csm)
var firstFrame: Date?
let start = Date()
let output = try generator.generate(GenerationPrompt(textIds: textIds), options: options) { _ in
    if firstFrame == nil { firstFrame = Date() }
}
let seconds = Date().timeIntervalSince(start)
let n = output.frames.count
let audioSeconds = Double(n) / Generator.Options.framesPerSecond
print(String(format: "swift: dtype %@ threads %d: %d frames in %.2f s (load %.1f s, prefill+first frame %.2f s): "
             + "%.2f frames/s, real-time factor %.2f%@", "\(dtype)", Runtime.threads, n, seconds, loadSeconds,
             firstFrame!.timeIntervalSince(start), Double(n) / seconds, seconds / audioSeconds,
             output.stoppedAtEnd ? " (stopped early at an all-zero frame)" : ""))
