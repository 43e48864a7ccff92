import Foundation

/// A line chart as inline SVG: axes with round ticks, one polyline per series, a legend. No scripts,
/// no external styles, so the report opens anywhere (and prints) as a single file.
///
/// Non-finite values break a line instead of dragging it to an edge; a series with few points (a
/// validation curve) also gets a marker per point, whose `<title>` shows the value on hover.
public struct SVGChart {
    public struct Series {
        public var name: String
        public var color: String
        public var points: [(x: Double, y: Double)]
        public var dashed: Bool

        public init(name: String, color: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
            self.name = name
            self.color = color
            self.points = points
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var series: [Series]
    public var width = 520.0
    public var height = 250.0
    /// Above this many points a series is thinned to the min and max of each bucket, which keeps
    /// spikes visible while a 100k-step run still gives a small file.
    public var maxPoints = 600
    /// Series with at most this many points get markers.
    public var markerLimit = 60

    let margin = (left: 58.0, right: 14.0, top: 30.0, bottom: 38.0)

    public init(title: String, xLabel: String = "step", series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
    }

    var plot: (x0: Double, x1: Double, y0: Double, y1: Double) {
        (margin.left, width - margin.right, height - margin.bottom, margin.top)
    }

    /// The data ranges the chart shows: the finite values of every series, padded so a flat line or a
    /// single point still gets a visible range.
    var domain: (x: ClosedRange<Double>, y: ClosedRange<Double>)? {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard let first = finite.first else { return nil }
        var (xMin, xMax, yMin, yMax) = (first.x, first.x, first.y, first.y)
        for p in finite {
            xMin = min(xMin, p.x); xMax = max(xMax, p.x)
            yMin = min(yMin, p.y); yMax = max(yMax, p.y)
        }
        if xMin == xMax { xMin -= 1; xMax += 1 }
        if yMin == yMax {
            let pad = yMin == 0 ? 1 : abs(yMin) * 0.1
            yMin -= pad; yMax += pad
        } else {
            let pad = (yMax - yMin) * 0.05
            yMin -= pad; yMax += pad
        }
        return (xMin ... xMax, yMin ... yMax)
    }

    /// Data coordinates → SVG coordinates.
    func project(_ x: Double, _ y: Double, _ d: (x: ClosedRange<Double>, y: ClosedRange<Double>)) -> (Double, Double) {
        let p = plot
        let px = p.x0 + (x - d.x.lowerBound) / (d.x.upperBound - d.x.lowerBound) * (p.x1 - p.x0)
        let py = p.y0 + (y - d.y.lowerBound) / (d.y.upperBound - d.y.lowerBound) * (p.y1 - p.y0)
        return (px, py)
    }

    public func render() -> String {
        var svg = [#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(n(width)) \#(n(height))" "#
            + #"class="chart" role="img" aria-label="\#(HTML.escape(title))">"#]
        svg.append(#"<text x="\#(n(margin.left))" y="18" class="title">\#(HTML.escape(title))</text>"#)
        guard let d = domain else {
            svg.append(#"<text x="\#(n(width / 2))" y="\#(n(height / 2))" class="empty" text-anchor="middle">no data</text>"#)
            svg.append("</svg>")
            return svg.joined(separator: "\n")
        }
        svg += axes(d)
        for s in series where !s.points.isEmpty {
            svg += lines(s, d)
        }
        svg += legend()
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    func axes(_ d: (x: ClosedRange<Double>, y: ClosedRange<Double>)) -> [String] {
        let p = plot
        var out = [#"<rect x="\#(n(p.x0))" y="\#(n(p.y1))" width="\#(n(p.x1 - p.x0))" height="\#(n(p.y0 - p.y1))" class="frame"/>"#]
        let yTicks = Ticks(d.y)
        for v in yTicks.values {
            let (_, y) = project(d.x.lowerBound, v, d)
            out.append(#"<line x1="\#(n(p.x0))" x2="\#(n(p.x1))" y1="\#(n(y))" y2="\#(n(y))" class="gridline"/>"#)
            out.append(#"<text x="\#(n(p.x0 - 6))" y="\#(n(y + 4))" text-anchor="end">\#(yTicks.label(v))</text>"#)
        }
        let xTicks = Ticks(d.x, integers: true)
        for v in xTicks.values {
            let (x, _) = project(v, d.y.lowerBound, d)
            out.append(#"<line x1="\#(n(x))" x2="\#(n(x))" y1="\#(n(p.y0))" y2="\#(n(p.y0 + 4))" class="tick"/>"#)
            out.append(#"<text x="\#(n(x))" y="\#(n(p.y0 + 16))" text-anchor="middle">\#(xTicks.label(v))</text>"#)
        }
        out.append(#"<text x="\#(n((p.x0 + p.x1) / 2))" y="\#(n(height - 6))" text-anchor="middle" class="axis">\#(HTML.escape(xLabel))</text>"#)
        return out
    }

    /// One path per series (a new `M` after each gap), plus markers for short series.
    func lines(_ s: Series, _ d: (x: ClosedRange<Double>, y: ClosedRange<Double>)) -> [String] {
        let points = thinned(s.points)
        var path = "", pen = false
        for pt in points {
            guard pt.x.isFinite, pt.y.isFinite else { pen = false; continue }
            let (x, y) = project(pt.x, pt.y, d)
            path += (pen ? " L" : (path.isEmpty ? "M" : " M")) + "\(n(x)) \(n(y))"
            pen = true
        }
        let dash = s.dashed ? #" stroke-dasharray="5 3""# : ""
        var out = [#"<path d="\#(path)" fill="none" stroke="\#(HTML.escape(s.color))" stroke-width="1.6"\#(dash)><title>\#(HTML.escape(s.name))</title></path>"#]
        if points.count <= markerLimit {
            for pt in points where pt.x.isFinite && pt.y.isFinite {
                let (x, y) = project(pt.x, pt.y, d)
                out.append(#"<circle cx="\#(n(x))" cy="\#(n(y))" r="2.6" fill="\#(HTML.escape(s.color))"><title>\#(HTML.escape(s.name)) @ \#(Ticks.plain(pt.x)): \#(Ticks.plain(pt.y))</title></circle>"#)
            }
        }
        return out
    }

    func legend() -> [String] {
        var out: [String] = []
        var x = plot.x1
        for s in series.reversed() {
            let w = 8 + Double(s.name.count) * 6.2 + 20
            x -= w
            let dash = s.dashed ? #" stroke-dasharray="5 3""# : ""
            out.append(#"<line x1="\#(n(x))" x2="\#(n(x + 14))" y1="14" y2="14" stroke="\#(HTML.escape(s.color))" stroke-width="2.4"\#(dash)/>"#)
            out.append(#"<text x="\#(n(x + 18))" y="18" class="legend">\#(HTML.escape(s.name))</text>"#)
        }
        return out
    }

    /// At most `maxPoints` points: the min and max of equal buckets, in x order.
    func thinned(_ points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        guard points.count > maxPoints, maxPoints >= 2 else { return points }
        let buckets = maxPoints / 2
        var out: [(x: Double, y: Double)] = []
        for b in 0 ..< buckets {
            let chunk = points[(b * points.count / buckets) ..< ((b + 1) * points.count / buckets)]
            let finite = chunk.filter { $0.y.isFinite }
            guard let lo = finite.min(by: { $0.y < $1.y }), let hi = finite.max(by: { $0.y < $1.y }) else {
                out.append((chunk.first!.x, .nan))  // keep the gap
                continue
            }
            out += lo.x <= hi.x ? [lo, hi] : [hi, lo]
        }
        return out
    }

    /// Coordinates with one decimal: plenty at this size, and short.
    func n(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Round tick values (1, 2, 5 × 10^k steps) covering a range, and labels with just enough digits,
/// in one notation per axis (scientific when the values are tiny or huge, as learning rates are).
struct Ticks {
    let values: [Double]
    let step: Double
    let scientific: Bool
    let largest: Double

    init(_ range: ClosedRange<Double>, target: Int = 5, integers: Bool = false) {
        let width = range.upperBound - range.lowerBound
        let magnitude = pow(10, floor(log10(width / Double(target))))
        // the finest round step that gives at most target + 1 ticks
        var step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { width / $0 <= Double(target) + 1 } ?? 10 * magnitude
        if integers { step = max(1, step.rounded()) }
        self.step = step
        let first = (range.lowerBound / step).rounded(.up) * step
        values = stride(from: first, through: range.upperBound + step * 1e-9, by: step).map { $0 }
        largest = max(abs(range.lowerBound), abs(range.upperBound))
        scientific = largest >= 1e5 || largest < 1e-2
    }

    func label(_ v: Double) -> String {
        if abs(v) < step * 1e-6 { return "0" }
        if scientific {
            let digits = max(0, Int(floor(log10(largest)) - floor(log10(step))))
            return String(format: "%.\(min(digits, 4))e", v)
        }
        let decimals = max(0, Int(-floor(log10(step))))
        return String(format: "%.\(min(decimals, 6))f", v)
    }

    /// A value for a tooltip or a table: 4 significant digits.
    static func plain(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        return String(format: "%.4g", v)
    }
}
