import Foundation
import Testing
@testable import Training

/// Renders a report in headless Chromium and checks the screenshot is a real page, not a blank or an
/// error page. Skipped (with the reason) where no Chromium is installed; `apt-get install chromium`
/// provides it. Set CSM_REPORT_SCREENSHOT=/path.png to keep the picture for a look.
@Suite struct ReportScreenshotTests {
    static let browser: String? = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"].lazy.compactMap { name in
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }.first

    @Test(.enabled(if: ReportScreenshotTests.browser != nil, "no chromium on PATH (apt-get install -y chromium)"))
    func screenshotShowsTheCharts() throws {
        let browser = try #require(Self.browser)
        let f = try ReportFixture()
        defer { f.remove() }
        let page = try TrainingReport(config: f.config).write()
        let png = ProcessInfo.processInfo.environment["CSM_REPORT_SCREENSHOT"].map(URL.init(fileURLWithPath:))
            ?? f.root.appendingPathComponent("shot.png")
        try? FileManager.default.removeItem(at: png)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--user-data-dir=\(f.root.appendingPathComponent("profile").path)",
                             "--screenshot=\(png.path)", "--window-size=1200,1600", page.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if process.isRunning { process.terminate() }
        #expect(process.terminationStatus == 0)

        let data = try Data(contentsOf: png)
        let image = try PNGSummary(data)
        #expect(image.width == 1200 && image.height == 1600)
        // A blank page compresses to a few KB; charts, text and tables do not.
        #expect(data.count > 30_000, "screenshot is only \(data.count) bytes")
        #expect(image.distinctColors > 20, "screenshot has \(image.distinctColors) colours: blank?")
        #expect(image.nonBackgroundFraction > 0.05, "only \(image.nonBackgroundFraction) of pixels differ from the background")
    }
}
