import Foundation
import Testing
@testable import Training
import Torch

@Suite struct SVGChartTests {
    /// Default geometry: plot x 58…506, y 212 (bottom) … 30 (top); y range padded by 5 % each side.
    @Test func pointsLandWhereTheArithmeticSays() {
        let chart = SVGChart(title: "t", series: [.init(name: "a", color: "#000", points: [(0, 0), (5, 2), (10, 10)])])
        let svg = chart.render()
        // y range -0.5 … 10.5 (11 wide): y=0 → 212 - 0.5/11·182 = 203.7; y=2 → 212 - 2.5/11·182 = 170.6;
        // y=10 → 212 - 10.5/11·182 = 38.3. x: 0 → 58, 5 → 282, 10 → 506.
        #expect(svg.contains(#"d="M58.0 203.7 L282.0 170.6 L506.0 38.3""#))
        #expect(svg.contains(#"<circle cx="282.0" cy="170.6""#))
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>"))
    }

    @Test func textIsEscaped() {
        let evil = #"<script>alert("x")</script> & 'q'"#
        let svg = SVGChart(title: evil, series: [.init(name: evil, color: #"red" onload="x"#, points: [(1, 1), (2, 2)])]).render()
        #expect(!svg.contains("<script>"))
        #expect(!svg.contains(#"onload="x""#))
        #expect(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"))
        #expect(HTML.escape(#"a<b>&"c'"#) == "a&lt;b&gt;&amp;&quot;c&#39;")
    }

    @Test func nonFiniteValuesBreakTheLine() {
        let points: [(x: Double, y: Double)] = [(1, 1), (2, 2), (3, .nan), (4, .infinity), (5, 2), (6, 1)]
        let svg = SVGChart(title: "t", series: [.init(name: "a", color: "#000", points: points)]).render()
        let path = svg.components(separatedBy: #"d=""#)[1].components(separatedBy: "\"")[0]
        #expect(path.filter { $0 == "M" }.count == 2)  // two runs: steps 1-2 and 5-6
        #expect(path.filter { $0 == "L" }.count == 2)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        // the range ignores the infinity: y=1…2 padded, so the top tick is at most 2.
        #expect(svg.contains(">2.0</text>"))
    }

    @Test func noDataSaysSo() {
        let empty = SVGChart(title: "Validation", series: [.init(name: "v", color: "#000", points: [])]).render()
        #expect(empty.contains("no data"))
        let allNaN = SVGChart(title: "V", series: [.init(name: "v", color: "#000", points: [(1, .nan)])]).render()
        #expect(allNaN.contains("no data") && !allNaN.contains("<path"))
        let single = SVGChart(title: "V", series: [.init(name: "v", color: "#000", points: [(3, 0.5)])]).render()
        #expect(single.contains("<circle") && !single.contains("no data"))
    }

    @Test func longSeriesAreThinnedKeepingExtremes() {
        var points = (0 ..< 20000).map { (x: Double($0), y: 1.0 + Double($0 % 7) * 0.01) }
        points[12345].y = 9  // a spike must survive thinning
        let chart = SVGChart(title: "t", series: [.init(name: "a", color: "#000", points: points)])
        let thinned = chart.thinned(points)
        #expect(thinned.count <= chart.maxPoints)
        #expect(thinned.contains { $0.x == 12345 && $0.y == 9 })
        #expect(zip(thinned, thinned.dropFirst()).allSatisfy { $0.x <= $1.x })
        #expect(chart.render().utf8.count < 40_000)
    }

    @Test func tickLabels() {
        let lr = Ticks(0 ... 2e-4)
        #expect(lr.values.count >= 4 && lr.values.count <= 8)
        #expect(lr.label(1.5e-4) == "1.5e-04")
        #expect(lr.label(0) == "0")
        let loss = Ticks(1.8 ... 9.2)
        #expect(loss.values == [2, 4, 6, 8])
        #expect(loss.label(4) == "4")
        let narrow = Ticks(7.38 ... 8.47)  // a loss that moved by 1: six ticks, not two
        #expect(narrow.values.map(narrow.label) == ["7.4", "7.6", "7.8", "8.0", "8.2", "8.4"])
        #expect(lr.label(2e-4) == "2.0e-04")
        let steps = Ticks(1 ... 3, integers: true)
        #expect(steps.values.allSatisfy { $0 == $0.rounded() })
    }
}

@Suite struct TrainingReportTests {
    @Test func reportHasEverySection() throws {
        let f = try ReportFixture()
        defer { f.remove() }
        let url = try TrainingReport(config: f.config).write()
        #expect(url.lastPathComponent == "report.html")
        let html = try String(contentsOf: url, encoding: .utf8)
        for needle in ["Total loss", "Backbone loss", "Depth-decoder loss", "Learning rate", "Throughput",
                       #"src="gen_step_000020.wav""#, #"src="gen_step_000040.wav""#, "step 40 · 1.00 s",
                       "en/zz_broken_conversation", "they must pair one to one", "de/bahnhof", "6 of 7",
                       "I would love to see &lt;some&gt; photos &amp; more.", "2 context turn(s)", "checkpoint-20/",
                       "resume point", "40 of 40"] {
            #expect(html.contains(needle), "missing: \(needle)")
        }
        // train and validation in each loss chart: 3 validation paths (dashed), 3 + 3 optimizer/speed/loss train paths.
        #expect(html.components(separatedBy: "stroke-dasharray").count - 1 >= 3)
        #expect(html.components(separatedBy: "<svg").count - 1 == 6)
        // self-contained: no scripts, no external resources.
        let outside = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!outside.contains("http:") && !outside.contains("https:"))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("@import"))
        #expect(html.utf8.count < 120_000)
    }

    @Test func withoutValidationOrDatasetTheReportStillRenders() throws {
        let f = try ReportFixture(steps: 3, valEvery: 0, extraLines: [#"{"step": 4, "loss": NaN, "lr": 1e-4}"#, "{broken"])
        defer { f.remove() }
        try FileManager.default.removeItem(at: f.preprocessed)
        let html = try TrainingReport(config: f.config).render()
        #expect(html.contains("No validation set"))
        #expect(html.contains("report.json is missing"))
        #expect(html.contains("1 unreadable line(s)"))
        #expect(!html.contains("stroke-dasharray=\"5 3\"><title>validation"))
        let metrics = try ReportMetrics(url: f.output.appendingPathComponent("metrics.jsonl"))
        #expect(metrics.rows.count == 4)
        #expect(metrics.points("loss").count == 4 && metrics.points("loss")[3].y.isNaN)
        #expect(metrics.last("loss") == metrics.points("loss")[2].y)
    }

    @Test func wavDurationFromHeader() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("d-\(UUID()).wav")
        defer { try? FileManager.default.removeItem(at: url) }
        try ReportFixture.wav(seconds: 0.75).write(to: url)
        #expect(wavSeconds(url) == 0.75)
        try Data("RIFF....WAVEjunk".utf8).write(to: url)
        #expect(wavSeconds(url) == nil)
    }

    /// Memory cards say what was measured: host RSS as "peak RSS", the GPU allocator's peak as "peak GPU
    /// memory"; metrics written on the CPU carry host RSS under peak_rss_mb only.
    @Test func peakMemoryIsLabelledForWhatItMeasured() throws {
        #expect(Array(peakMemoryColumns(device: .cpu).keys) == ["peak_rss_mb"])
        if Runtime.peakMemory(on: .cuda(0)).bytes == nil {
            // No companion library: a GPU run records no GPU figure rather than host RSS under its name.
            #expect(Array(peakMemoryColumns(device: .cuda(0)).keys) == ["peak_rss_mb"])
        }
        let host = TrainingReport.peakMemoryCards(ReportMetrics(rows: [["step": 1, "peak_rss_mb": 812.0]]))
        #expect(host.map(\.0) == ["peak RSS"] && host.map(\.1) == ["812 MB"])
        let gpu = TrainingReport.peakMemoryCards(ReportMetrics(rows: [["step": 1, "peak_rss_mb": 812.0, "peak_gpu_memory_mb": 3000.0]]))
        #expect(gpu.map(\.0) == ["peak GPU memory", "peak RSS"])
        // Older runs' peak_memory_mb was host RSS.
        #expect(TrainingReport.peakMemoryCards(ReportMetrics(rows: [["step": 1, "peak_memory_mb": 5.0]])).map(\.0) == ["peak RSS"])

        let f = try ReportFixture()
        defer { f.remove() }
        let html = try String(contentsOf: TrainingReport(config: f.config).write(), encoding: .utf8)
        #expect(html.contains("peak RSS") && !html.contains("peak GPU memory"))
    }
}
