// Encoding speed of the Tokenizer on English prose, one thread.
//
//   tokenizer-bench --model_id DIR [--megabytes 4] [--text-in FILE] [--text-out FILE]
//
// Builds a few MB of prose (seeded shuffle of the sentences below, with numbers mixed in; or of the non-empty
// lines of --text-in, e.g. the license texts in /usr/share/common-licenses), encodes it one
// paragraph at a time as a data pipeline would, and prints tokens/s (best of 3). `--text-out` writes the same
// paragraphs (a JSON array) so tools/bench/tokenizer.py can time `tokenizers` on identical input.
import Foundation
import Tokenizer

let sentences = """
The morning light came slowly over the hills, and the village began to stir.
She had always believed that a good conversation could change the course of a day.
When the train finally arrived, nobody on the platform seemed to notice.
He opened the old notebook and read the first page twice before he understood it.
We're going to need a bigger table if everyone shows up tonight.
It was not the first time the river had flooded the lower fields, and it wouldn't be the last.
They talked about music, about cities they had never seen, and about what they would do next summer.
"Do you really think it will work?" she asked, looking out of the window.
The committee met on Tuesday to discuss the budget for the coming year.
Most of the recordings were made in a small studio on the edge of town.
I don't know why, but the smell of fresh bread always reminds me of my grandmother's kitchen.
After three weeks of rain, the sun finally broke through the clouds.
The speaker paused, took a sip of water, and continued with the second part of the talk.
Nobody expected the quiet student in the back row to win the competition.
If you listen carefully, you can hear the sea from the top of the tower.
Their conversation drifted from politics to football and back again.
The report, which ran to more than two hundred pages, was published in March.
She laughed so hard that she had to sit down on the steps.
Every evening the old man walked his dog along the same narrow path.
You'll find the keys in the drawer next to the front door.
The experiment was repeated several times, with slightly different results each time.
A gentle wind moved through the trees, carrying the scent of pine and wet earth.
He's been working on that novel for almost ten years now.
The museum will remain closed until the renovation is complete.
We spent the whole afternoon trying to fix the bicycle, without much success.
Although the road was long and the weather uncertain, they decided to leave at dawn.
The children ran across the square, chasing pigeons and shouting with joy.
Please remember to switch off the lights when you leave the office.
In the end, it was the small details that made the difference.
The voice on the radio announced that the storm would reach the coast by midnight.
""".split(separator: "\n").map(String.init)

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func prose(megabytes: Double, from source: [String]) -> [String] {
    var rng = SplitMix64(state: 42)
    var paragraphs: [String] = []
    var total = 0
    while Double(total) < megabytes * 1_000_000 {
        var p = ""
        for _ in 0..<Int.random(in: 3...9, using: &rng) {
            var s = source.randomElement(using: &rng)!
            if Int.random(in: 0..<5, using: &rng) == 0 {
                s = "In \(Int.random(in: 1800...2030, using: &rng)), " + s.prefix(1).lowercased() + s.dropFirst()
            }
            p += (p.isEmpty ? "" : " ") + s
        }
        total += p.utf8.count + 1
        paragraphs.append(p)
    }
    return paragraphs
}

var options: [String: String] = [:]
var args = CommandLine.arguments.dropFirst()
while let flag = args.popFirst() {
    guard flag.hasPrefix("--"), let value = args.popFirst() else {
        FileHandle.standardError.write("usage: tokenizer-bench --model_id DIR [--megabytes N] [--text-in FILE] [--text-out FILE]\n".data(using: .utf8)!)
        exit(2)
    }
    options[String(flag.dropFirst(2))] = value
}
guard let folder = options["model_id"] else {
    FileHandle.standardError.write("tokenizer-bench: --model_id DIR is required\n".data(using: .utf8)!)
    exit(2)
}

do {
    let tokenizer = try Tokenizer(folder: URL(fileURLWithPath: folder))
    var source = sentences
    if let input = options["text-in"] {
        source = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    let paragraphs = prose(megabytes: Double(options["megabytes"] ?? "4") ?? 4, from: source)
    let bytes = paragraphs.reduce(0) { $0 + $1.utf8.count + 1 }
    if let out = options["text-out"] {
        // JSON, so that paragraphs holding line breaks of any kind come back unchanged.
        try JSONSerialization.data(withJSONObject: paragraphs).write(to: URL(fileURLWithPath: out))
    }
    // CPU time of this process as well as wall time: on a shared machine the CPU figure is the stable one.
    func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    var best = Double.infinity, bestCPU = Double.infinity
    var first = 0.0  // the round that fills the pre-token cache
    var tokens = 0
    for round in 0..<3 {
        let start = DispatchTime.now().uptimeNanoseconds
        let startCPU = cpuSeconds()
        var count = 0
        for p in paragraphs { count += tokenizer.encode(p, addSpecialTokens: false).count }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        bestCPU = min(bestCPU, cpuSeconds() - startCPU)
        best = min(best, seconds)
        if round == 0 { first = seconds }
        tokens = count
    }
    print(String(format: "swift Tokenizer: %d paragraphs, %.2f MB, %d tokens, best of 3: %.3f s wall, %.3f s cpu;"
                 + " %.2f M tokens/s wall, %.2f M tokens/s cpu, %.1f MB/s cpu (first round, cold cache: %.2f M tokens/s wall)",
                 paragraphs.count, Double(bytes) / 1e6, tokens, best, bestCPU, Double(tokens) / best / 1e6,
                 Double(tokens) / bestCPU / 1e6, Double(bytes) / bestCPU / 1e6, Double(tokens) / first / 1e6))
} catch {
    FileHandle.standardError.write("tokenizer-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
