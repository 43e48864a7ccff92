import Foundation
import Testing

/// Peak memory must not grow with the dataset: one conversation in memory at a time. Measured in processes of
/// their own (`csm-bench dataset`, built beside the test bundle), since VmHWM is per process and tests run in parallel.
@Suite struct MemoryTests {
    struct Run: Decodable {
        let segments: Int
        let peak_rss_kib: Int
    }

    func bench(scale: Int) throws -> Run {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [dir, dir.deletingLastPathComponent(), dir.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("csm-bench") }
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey:
                "csm-bench not found next to \(CommandLine.arguments[0]); build it (swift build --build-tests)"])
        }
        let process = Process()
        process.executableURL = tool
        process.arguments = ["dataset", "--scale", "\(scale)", "--conversations", "3", "--segments", "10", "--seconds", "3"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try JSONDecoder().decode(Run.self, from: output)
    }

    @Test func peakMemoryDoesNotGrowWithTheDataset() throws {
        let one = try bench(scale: 1)
        let eight = try bench(scale: 8)
        #expect(eight.segments == 8 * one.segments)
        // 8× the audio is ~60 MiB more than 1×: holding it all would break this bound.
        #expect(Double(eight.peak_rss_kib) <= 1.10 * Double(one.peak_rss_kib),
                "peak RSS \(one.peak_rss_kib) KiB at 1×, \(eight.peak_rss_kib) KiB at 8×")
    }
}
