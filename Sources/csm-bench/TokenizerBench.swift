// csm-bench tokenizer: encoding speed of the Tokenizer on English prose, one thread, next to `tokenizers` in
// tools/bench/tokenizer.py; scripts/bench_tokenizer.sh runs both, pinned to one core.
//
// Builds a few MB of prose (seeded shuffle of the sentences below, with numbers mixed in; or of the non-empty
// lines of --text-in, e.g. the license texts in /usr/share/common-licenses), encodes it one paragraph at a time as a
// data pipeline would, and prints tokens/s (best of 3). `--text-out` writes the same paragraphs (a JSON array) so
// tools/bench/tokenizer.py can time `tokenizers` on identical input.
import ArgumentParser
import Foundation
import Tokenizer
import Torch

struct TokenizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Tokenizer encoding speed on English prose (scripts/bench_tokenizer.sh).")

    @Option(name: [.customLong("model_id"), .customLong("model-id")], help: "Folder holding tokenizer.json.")
    var modelId: String
    @Option(help: "Megabytes of prose to encode.") var megabytes = 4.0
    @Option(name: .customLong("text-in"), help: "Sentences to shuffle: the non-empty lines of this file.") var textIn: String?
    @Option(name: .customLong("text-out"), help: "Write the paragraphs here (a JSON array).") var textOut: String?

    func run() throws {
        let tokenizer = try Tokenizer(folder: URL(fileURLWithPath: modelId))
        var source = Self.sentences
        if let textIn {
            source = try String(contentsOfFile: textIn, encoding: .utf8).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let paragraphs = Self.prose(megabytes: megabytes, from: source)
        let bytes = paragraphs.reduce(0) { $0 + $1.utf8.count + 1 }
        if let textOut {
            // JSON, so that paragraphs holding line breaks of any kind come back unchanged.
            try JSONSerialization.data(withJSONObject: paragraphs).write(to: URL(fileURLWithPath: textOut))
        }
        // The first round fills the pre-token cache. CPU time as well as wall time: on a shared machine the CPU
        // figure is the stable one.
        let runs = measure(3) { paragraphs.reduce(0) { $0 + tokenizer.encode($1, addSpecialTokens: false).count } }
        let tokens = Double(runs.result)
        print(String(format: "swift Tokenizer: %d paragraphs, %.2f MB, %d tokens, best of 3: %.3f s wall, %.3f s cpu;"
                     + " %.2f M tokens/s wall, %.2f M tokens/s cpu, %.1f MB/s cpu (first round, cold cache: %.2f M tokens/s wall)",
                     paragraphs.count, Double(bytes) / 1e6, runs.result, runs.best, runs.bestCPU, tokens / runs.best / 1e6,
                     tokens / runs.bestCPU / 1e6, Double(bytes) / runs.bestCPU / 1e6, tokens / runs.wall[0] / 1e6))
    }

    /// Paragraphs of 3 to 9 sentences drawn from `source` until `megabytes`, a fifth of them dated.
    static func prose(megabytes: Double, from source: [String]) -> [String] {
        var rng = SeededRandom(seed: 42)
        var paragraphs: [String] = []
        var total = 0
        while Double(total) < megabytes * 1_000_000 {
            var p = ""
            for _ in 0 ..< Int.random(in: 3 ... 9, using: &rng) {
                var s = source.randomElement(using: &rng)!
                if Int.random(in: 0 ..< 5, using: &rng) == 0 {
                    s = "In \(Int.random(in: 1800 ... 2030, using: &rng)), " + s.prefix(1).lowercased() + s.dropFirst()
                }
                p += (p.isEmpty ? "" : " ") + s
            }
            total += p.utf8.count + 1
            paragraphs.append(p)
        }
        return paragraphs
    }

    static let sentences = """
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
}
