import Foundation
import Testing
@testable import Torch

/// Peak memory is reported for what it measures: host RSS on the CPU, the CUDA allocator's peak through
/// the companion library on a GPU, and "unknown" (with the reason) where that library is absent, never
/// host RSS under a GPU label.
@Suite struct PeakMemoryTests {
    @Test func cpuIsHostRSS() throws {
        let peak = Runtime.peakMemory(on: .cpu)
        #expect(peak.kind == .hostRSS && peak.label == "peak RSS" && peak.metricsKey == "peak_rss_mb")
        #expect((peak.bytes ?? 0) > 0 && peak.bytes == Runtime.peakResidentBytes)
    }

    @Test func cudaWithoutTheCompanionIsUnknownAndSaysWhy() throws {
        if case .loaded = CUDAMemoryCompanion.shared { return }  // a CUDA machine with the companion built
        let peak = Runtime.peakMemory(on: .cuda(0))
        #expect(peak.kind == .gpu && peak.label == "peak GPU memory" && peak.metricsKey == "peak_gpu_memory_mb")
        #expect(peak.bytes == nil, "host RSS reported as GPU memory")
        #expect(peak.note?.contains("companion library libctorch_cuda.so not loaded") == true, "\(peak.note ?? "")")
    }

    /// The resolver on stand-ins: a missing file, a library without the symbol, and one with it.
    @Test func resolverLoadsTheCompanionOrSaysWhyNot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("csm-companion-\(UUID())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        func build(_ name: String, _ source: String) throws -> String {
            let c = root.appendingPathComponent(name + ".c"), so = root.appendingPathComponent(name + ".so").path
            try source.write(to: c, atomically: true, encoding: .utf8)
            let cc = Process()
            cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            cc.arguments = ["cc", "-shared", "-fPIC", "-o", so, c.path]
            try cc.run()
            cc.waitUntilExit()
            try #require(cc.terminationStatus == 0, "cc -shared failed")
            return so
        }
        let missing = root.appendingPathComponent("absent/libctorch_cuda.so").path
        guard case .notLoaded(let reason) = CUDAMemoryCompanion.resolve(candidates: [missing]) else {
            Issue.record("a missing file loaded")
            return
        }
        #expect(reason.hasPrefix("companion library libctorch_cuda.so not loaded") && reason.contains(missing), "\(reason)")

        let wrong = try build("wrong", "long something_else(int d) { return d; }\n")
        guard case .notLoaded(let reason2) = CUDAMemoryCompanion.resolve(candidates: [wrong]) else {
            Issue.record("a library without the symbol loaded")
            return
        }
        #expect(reason2.contains("no symbol ctc_cuda_max_memory_allocated"), "\(reason2)")

        let good = try build("good", "long long ctc_cuda_max_memory_allocated(int d) { return 1000 + d; }\n")
        guard case .loaded(let path, let read) = CUDAMemoryCompanion.resolve(candidates: [missing, wrong, good]) else {
            Issue.record("the stand-in companion did not load")
            return
        }
        #expect(path == good && read(0) == 1000 && read(3) == 1003)
    }
}
