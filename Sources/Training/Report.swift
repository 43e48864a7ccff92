import Dataset
import Foundation

/// `report.html` in the output folder: one self-contained page (inline SVG and CSS, no scripts, no
/// network) that answers "how did this run go?": loss curves, learning rate and throughput, the
/// dataset it saw with every skip, the samples it generated (players with relative links, so the
/// folder can be moved or zipped), the settings, and what each output file is.
public struct TrainingReport {
    public static let fileName = "report.html"

    public var outputDir: URL
    public var config: TrainConfig
    var metrics: ReportMetrics
    var samples: [GeneratedSample]
    var dataset: DatasetSummary
    var prompt: GenerationPromptText?

    /// Reads what the run left in `config.outputDir` (metrics.jsonl, gen_step_*.wav) and the dataset's reports.
    public init(config: TrainConfig) throws {
        self.config = config
        outputDir = URL(fileURLWithPath: config.outputDir)
        let metricsURL = outputDir.appendingPathComponent("metrics.jsonl")
        metrics = FileManager.default.fileExists(atPath: metricsURL.path) ? try ReportMetrics(url: metricsURL) : ReportMetrics(rows: [])
        samples = GeneratedSample.all(in: outputDir)
        dataset = DatasetSummary(preprocessedPath: config.preprocessedPath)
        prompt = GenerationPromptText(genFrom: config.genFrom)
    }

    /// Writes the page atomically and returns its location.
    @discardableResult
    public func write() throws -> URL {
        let url = outputDir.appendingPathComponent(Self.fileName)
        try writeAtomicallyText(render(), to: url)
        return url
    }

    /// What `TrainingRun` calls when training ends: a report that cannot be written is a warning,
    /// never a reason to fail a run whose weights are already saved.
    public static func writeAfterTraining(config: TrainConfig, log: (String) -> Void) {
        do {
            let url = try TrainingReport(config: config).write()
            log("[train] report: \(url.path)")
        } catch {
            log("[train] warning: could not write \(fileName): \(error)")
        }
    }

    // MARK: the page

    public func render(generated: Date = Date()) -> String {
        let title = "Training report — \(outputDir.lastPathComponent)"
        var body = ["<h1>\(HTML.escape(title))</h1>",
                    "<p class=\"sub\">\(HTML.escape(subtitle(generated)))</p>",
                    summary(), lossSection(), speechSection(), optimizerSection(), samplesSection(), datasetSection(),
                    settingsSection(), filesSection()].compactMap { $0 }
        if metrics.unreadableLines > 0 {
            body.insert("<p class=\"warn\">metrics.jsonl: \(metrics.unreadableLines) unreadable line(s) left out.</p>", at: 2)
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title))</title>
            <style>\(Self.css)</style>
            </head>
            <body>
            \(body.joined(separator: "\n"))
            </body>
            </html>

            """
    }

    func subtitle(_ date: Date) -> String {
        let stamp = ISO8601DateFormatter().string(from: date)
        let lora = "r=\(config.loraR) α=\(Ticks.plain(config.loraAlpha))"
        let mode = config.fullFinetune ? "full fine-tune" : (config.loadIn4bit ? "QLoRA " : "LoRA ") + lora
        return "\(config.modelId) · \(mode) · \(outputDir.path) · written \(stamp)"
    }

    func summary() -> String {
        let planned = config.maxSteps > 0 ? " of \(config.maxSteps)" : ""
        let seconds = metrics.values("s_per_step").reduce(0, +)
        let throughput = metrics.values("tokens_per_s")
        var cards: [(String, String)] = [
            ("steps", "\(metrics.lastStep)\(planned)"),
            ("final train loss", metrics.last("loss").map(Ticks.plain) ?? "–"),
        ]
        let val = metrics.values("val_loss")
        if let last = val.last {
            cards.append(("val loss (last / best)", "\(Ticks.plain(last)) / \(Ticks.plain(val.min()!))"))
        }
        cards += [
            ("time in steps", duration(seconds)),  // without checkpoints and samples
            ("mean tokens/s", throughput.isEmpty ? "–" : Ticks.plain((throughput.reduce(0, +) / Double(throughput.count)).rounded())),
        ] + Self.peakMemoryCards(metrics) + [("samples generated", "\(samples.count)")]
        return "<div class=\"cards\">" + cards.map {
            "<div class=\"card\"><div class=\"k\">\(HTML.escape($0.0))</div><div class=\"v\">\(HTML.escape($0.1))</div></div>"
        }.joined() + "</div>"
    }

    /// One card per memory figure the run recorded, labelled for what it measured: "peak GPU memory"
    /// (the device allocator) and "peak RSS" (host memory). Runs before these keys had `peak_memory_mb`,
    /// which was host RSS.
    static func peakMemoryCards(_ metrics: ReportMetrics) -> [(String, String)] {
        func card(_ label: String, _ keys: [String]) -> (String, String)? {
            keys.lazy.compactMap { metrics.values($0).max() }.first.map { (label, "\(Ticks.plain($0.rounded())) MB") }
        }
        let cards = [card("peak GPU memory", ["peak_gpu_memory_mb"]), card("peak RSS", ["peak_rss_mb", "peak_memory_mb"])]
            .compactMap { $0 }
        return cards.isEmpty ? [("peak memory", "–")] : cards
    }

    static let trainColor = "#2563eb", validationColor = "#dc2626"

    func lossSection() -> String {
        let codebooks = dataset.manifest.map { "codebooks 0–\($0.numCodebooks - 1)" } ?? "every codebook"
        let charts = [("Total loss", "loss"), ("Backbone loss (codebook 0)", "backbone_loss"),
                      ("Depth-decoder loss (\(codebooks))", "depth_loss")].map { title, key in
            SVGChart(title: title, series: [
                .init(name: "train", color: Self.trainColor, points: metrics.points(key)),
                .init(name: "validation", color: Self.validationColor, points: metrics.points("val_" + key), dashed: true),
            ].filter { !$0.points.isEmpty }).render()
        }
        let note = metrics.points("val_loss").isEmpty ? "<p class=\"note\">No validation set (--val_fraction 0).</p>" : ""
        return section("Loss", grid(charts) + note)
    }

    func optimizerSection() -> String {
        let charts = [
            SVGChart(title: "Learning rate", series: [.init(name: "lr", color: "#059669", points: metrics.points("lr"))]),
            SVGChart(title: "Throughput (tokens/s)", series: [.init(name: "tokens/s", color: "#7c3aed", points: metrics.points("tokens_per_s"))]),
            SVGChart(title: "Gradient norm (before clipping)", series: [.init(name: "grad norm", color: "#d97706", points: metrics.points("grad_norm"))]),
        ]
        return section("Optimizer and speed", grid(charts.map { $0.render() }))
    }

    func samplesSection() -> String {
        var html = ""
        if let prompt {
            html += "<p>Each sample speaks \(HTML.escape(prompt.target)) after \(prompt.context.count) context turn(s) from "
                + "<code>\(HTML.escape(config.genFrom ?? ""))</code>.</p>"
        }
        if samples.isEmpty {
            html += "<p class=\"note\">No gen_step_*.wav in the output folder (set --gen_from and --gen_every).</p>"
        } else {
            html += "<div class=\"players\">" + samples.map { s in
                let length = s.seconds.map { String(format: " · %.2f s", $0) } ?? ""
                return "<figure><figcaption>step \(s.step)\(length)</figcaption>"
                    + "<audio controls preload=\"metadata\" src=\"\(HTML.escape(s.file))\"></audio>"
                    + "<a href=\"\(HTML.escape(s.file))\">\(HTML.escape(s.file))</a></figure>"
            }.joined() + "</div>"
        }
        return section("Generated samples", html)
    }

    func datasetSection() -> String {
        var html = "<p>Preprocessed set: <code>\(HTML.escape(dataset.folder))</code></p>"
        if let problem = dataset.problem { html += "<p class=\"warn\">\(HTML.escape(problem))</p>" }
        if let r = dataset.report {
            html += HTML.table(["", "kept", "skipped"], [
                ["conversations", "\(r.conversationsWritten) of \(r.conversationsFound)", "\(r.conversationsSkipped)"],
                ["segments", "\(r.segmentsKept)", "\(r.segmentsSkipped)"],
                ["samples", "\(r.samples)", ""],
                ["audio", duration(r.audioSeconds), ""],
            ])
        }
        if let m = dataset.manifest {
            let a = m.settings.arguments
            html += "<p class=\"note\">Context turns \(a.numContextTurns); segments \(Ticks.plain(a.minAudioSeconds))–"
                + "\(Ticks.plain(a.maxAudioSeconds)) s; text ≤ \(a.textMaxLength) tokens; \(m.numCodebooks) codebooks.</p>"
            html += HTML.table(["conversation", "segments", "speakers", "audio (s)", "frames"], m.conversations.map { c in
                [c.id, "\(c.segments.count)", Set(c.segments.map(\.speaker)).sorted().map(String.init).joined(separator: ", "),
                 String(format: "%.1f", c.segments.reduce(0) { $0 + $1.duration }), "\(c.segments.reduce(0) { $0 + $1.frames })"]
            })
        }
        if let r = dataset.report, !r.skips.isEmpty {
            html += "<h3>Skipped (\(r.skips.count))</h3>"
            html += HTML.table(["what", "reason"], r.skips.prefix(200).map { [$0.conversation + ($0.segment.map { "/" + $0 } ?? ""), $0.reason] },
                               numericFrom: 2)
            if r.skips.count > 200 { html += "<p class=\"note\">… \(r.skips.count - 200) more in report.json.</p>" }
        }
        return section("Dataset", html)
    }

    func settingsSection() -> String {
        /// A setting's value as JSON spells it (so booleans print as true/false, not 1/0).
        enum Value: Decodable, CustomStringConvertible {
            case text(String)
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if c.decodeNil() { self = .text("null") } else if let b = try? c.decode(Bool.self) { self = .text("\(b)") }
                else if let d = try? c.decode(Double.self) { self = .text(Ticks.plain(d)) } else { self = .text(try c.decode(String.self)) }
            }
            var description: String { if case .text(let t) = self { return t }; return "" }
        }
        let values = (try? JSONEncoder().encode(config)).flatMap { try? JSONDecoder().decode([String: Value].self, from: $0) } ?? [:]
        let rows = values.keys.sorted().map { [$0, values[$0]!.description] }
        return section("Settings", "<details><summary>\(rows.count) settings (as given to csm train)</summary>"
            + HTML.table(["setting", "value"], rows, numericFrom: 2) + "</details>")
    }

    func filesSection() -> String {
        // report.html itself is listed even on the first run, before it exists.
        let names = Set(((try? FileManager.default.contentsOfDirectory(atPath: outputDir.path)) ?? []) + [Self.fileName]).sorted()
        let rows = names.filter { !$0.hasPrefix(".") }.map { name -> [String] in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: outputDir.appendingPathComponent(name).path, isDirectory: &isDir)
            return [name + (isDir.boolValue ? "/" : ""), Self.describe(name)]
        }
        return section("Output folder", HTML.table(["file", "what it is"], rows, numericFrom: 2))
    }

    /// What each file of an output folder is (README's output layout says the same).
    static func describe(_ name: String) -> String {
        switch name {
        case "adapter_model.safetensors": return "LoRA weights, PEFT format (base_model.model.<module>.lora_A/B.weight)"
        case "adapter_config.json": return "LoRA settings; PEFT's PeftModel.from_pretrained loads the folder"
        case "model.safetensors", "config.json": return "the full fine-tuned model (--full_finetune), Hugging Face format"
        case "metrics.jsonl": return "one JSON object per step: loss, backbone/depth loss, lr, grad norm, tokens/s, memory, validation"
        case SpeechEvalHook.folderName: return "--eval_speech_every: per step, speech_eval.json (transcripts, WER, CER, similarity) and the wavs"
        case "runs": return "TensorBoard event files (tensorboard --logdir runs; wandb sync --sync-tensorboard)"
        case fileName: return "this page"
        case "generation_config.json": return "sampling defaults for csm generate"
        default:
            if name.hasPrefix("checkpoint-") { return "resume point: weights, optimizer, schedule and data position (--resume)" }
            if name.hasPrefix("gen_step_") { return "sample generated from --gen_from at that step" }
            if name.hasPrefix("tokenizer") || name.hasPrefix("special_tokens") || name.hasPrefix("chat_template")
                || name.hasPrefix("processor") || name.hasPrefix("preprocessor") { return "tokenizer/processor file, copied from the base model" }
            return ""
        }
    }

    // MARK: pieces

    func section(_ title: String, _ html: String) -> String {
        "<section><h2>\(HTML.escape(title))</h2>\n\(html)\n</section>"
    }

    func grid(_ items: [String]) -> String { "<div class=\"grid\">\n" + items.joined(separator: "\n") + "\n</div>" }

    func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        if seconds < 3600 { return String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60) }
        return String(format: "%d h %02d min", Int(seconds) / 3600, Int(seconds) % 3600 / 60)
    }

    static let css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;background:#f8fafc;margin:0 auto;max-width:1140px;padding:20px 28px}
        h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:0 0 10px}h3{font-size:14px;margin:14px 0 6px}
        .sub{color:#6b7280;margin:0 0 14px;word-break:break-all}.note{color:#6b7280}.warn{color:#b45309}
        section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:14px 16px;margin:14px 0}
        .cards{display:flex;flex-wrap:wrap;gap:10px}.card{flex:1 1 110px;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:8px 12px}
        .card .k{color:#6b7280;font-size:12px}.card .v{font-size:18px;font-weight:600}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:10px}
        svg.chart{width:100%;height:auto;background:#fff}svg text{font-size:11px;fill:#374151}
        svg .title{font-size:13px;font-weight:600}svg .legend{font-size:11px}svg .axis{fill:#6b7280}svg .empty{fill:#9ca3af;font-size:14px}
        svg .frame{fill:none;stroke:#d1d5db}svg .gridline{stroke:#eef0f3}svg .tick{stroke:#9ca3af}
        table{border-collapse:collapse;margin:6px 0;font-size:13px}td,th{border-bottom:1px solid #eef0f3;padding:3px 10px;text-align:left}
        th{color:#6b7280;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        .players{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;border:1px solid #e5e7eb;border-radius:8px;padding:8px}
        figcaption{font-weight:600;margin-bottom:4px}figure a{display:block;font-size:12px;color:#6b7280}
        code{background:#f3f4f6;padding:1px 4px;border-radius:4px}
        """
}
