// mimi-bench: times Mimi encode (batched, all clips in one call) and decode on raw float32 clips, for
// scripts/bench_mimi.sh. Usage: mimi-bench MODEL_DIR CLIPS_DIR [--threads N] [--repeats N]
// CLIPS_DIR holds clips.json ({"clips": ["000.f32", ...]}) and the little-endian float32 mono 24 kHz files.
// Prints one JSON object: seconds of audio, best encode/decode wall and process CPU times (CPU time stays
// meaningful when other jobs share the cores), and writes the codes to
// CLIPS_DIR/swift_codes.json for the parity check against transformers.
import Foundation
import Mimi
import Torch

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mimi-bench: \(message)\n".utf8))
    exit(1)
}

var args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> Int? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return nil }
    args.removeSubrange(i...(i + 1))
    return v
}
let threads = option("--threads")
let repeats = option("--repeats") ?? 3
guard args.count == 2 else { fail("usage: mimi-bench MODEL_DIR CLIPS_DIR [--threads N] [--repeats N]") }
let modelDir = URL(fileURLWithPath: args[0]), clipsDir = URL(fileURLWithPath: args[1])
if let threads { Runtime.threads = threads }

do {
    let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: clipsDir.appendingPathComponent("clips.json")))
    guard let names = (manifest as? [String: Any])?["clips"] as? [String] else { fail("clips.json has no 'clips' list") }
    let clips: [[Float]] = try names.map { name in
        let data = try Data(contentsOf: clipsDir.appendingPathComponent(name))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
    let model = try MimiModel.load(folder: modelDir)
    let seconds = Double(clips.map(\.count).reduce(0, +)) / Double(model.config.samplingRate)

    func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    /// Best (wall, cpu) seconds over the repeats.
    func best(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        var wall = Double.infinity, cpu = Double.infinity
        for _ in 0..<repeats {
            let (start, startCPU) = (Date(), cpuSeconds())
            try body()
            wall = min(wall, Date().timeIntervalSince(start))
            cpu = min(cpu, cpuSeconds() - startCPU)
        }
        return (wall, cpu)
    }
    _ = try model.encode(segments: [Array(clips[0].prefix(24_000))])  // warm-up (kernels, allocator)
    var codes: [[[Int]]] = []
    let encodeTime = try best { codes = try model.encode(segments: clips) }
    let codeTensors = try codes.map { frames in
        try Tensor(frames.flatMap { $0 }, shape: [frames.count, frames[0].count]).transpose(0, 1).unsqueeze(0)
    }
    let decodeTime = try best { for c in codeTensors { _ = try model.decode(c) } }

    let out = try JSONSerialization.data(withJSONObject: ["codes": codes])
    try out.write(to: clipsDir.appendingPathComponent("swift_codes.json"))
    let report: [String: Any] = [
        "audio_seconds": seconds, "clips": clips.count, "threads": Runtime.threads,
        "encode_seconds": encodeTime.wall, "decode_seconds": decodeTime.wall,
        "encode_cpu_seconds": encodeTime.cpu, "decode_cpu_seconds": decodeTime.cpu,
        "encode_rtf": seconds / encodeTime.wall, "decode_rtf": seconds / decodeTime.wall,
    ]
    print(String(data: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), encoding: .utf8)!)
} catch {
    fail("\(error)")
}
