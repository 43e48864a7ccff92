import Foundation
import Testing
import TestSupport

/// A bounded load test on loopback (tools/bench/serve_load.py): 8 concurrent clients × 5 streamed requests against
/// `csm serve` on the tiny demo model. Every request must succeed with whole frames, the server's resident memory
/// stays bounded, and the latency percentiles are printed (BENCHMARKS.md quotes them).
@Suite(.serialized, .enabled(if: PythonChecks.isAvailable, "tools/.venv missing: run make venv"))
struct ServeLoadTests {
    /// The tiny model's server: libtorch + the tiny model + 40 requests' buffers measured 188 MB; 5× that is a leak.
    static let peakRSSBoundMB = 1_000.0

    @Test func eightClientsTimesFiveRequestsAllSucceed() throws {
        let server = try ServerProcess(["--max_audio_seconds", "1", "--chunk_frames", "2"])
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("serve-load-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: report) }
        let run = try python("tools/bench/serve_load.py", [
            "--url", server.url, "--model", ServerProcess.modelName, "--clients", "8", "--requests", "5",
            "--pid", "\(server.pid)", "--json", report.path], timeout: 240)
        let stopped = server.stop(SIGINT)
        print("serve load (8 clients x 5 requests, tiny demo model, 1 libtorch thread): "
              + String(decoding: run.stdout, as: UTF8.self))
        #expect(run.status == 0, "serve_load.py: \(String(decoding: run.stdout, as: UTF8.self))\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any] ?? [:]
        #expect(json["ok"] as? Int == 40 && json["failures"] as? Int == 0, "\(json)")
        let rss = json["server_peak_rss_mb"] as? Double ?? .infinity
        #expect(rss > 0 && rss < Self.peakRSSBoundMB, "server peak RSS \(rss) MB")
        #expect(stopped.exited && stopped.status == 0, "\(stopped)\n\(server.output)")
    }
}
