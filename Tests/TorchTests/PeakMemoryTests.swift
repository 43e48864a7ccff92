import Foundation
import Testing
@testable import Torch

/// Peak memory is reported for what it measures: host RSS on the CPU, the CUDA allocator's peak through
/// the CUDA companion on a GPU, and "unknown" (with the reason) where that library is absent, never
/// host RSS under a GPU label.
@Suite struct PeakMemoryTests {
    @Test func cpuIsHostRSS() throws {
        // The high-water mark only rises, and may between two reads (this process is still growing).
        let before = try #require(Runtime.peakResidentBytes)
        let peak = Runtime.peakMemory(on: .cpu)
        let after = try #require(Runtime.peakResidentBytes)
        #expect(peak.kind == .hostRSS && peak.label == "peak RSS" && peak.metricsKey == "peak_rss_mb")
        #expect(before > 0 && before <= (peak.bytes ?? 0) && (peak.bytes ?? 0) <= after)
    }

    @Test func cudaWithoutTheCompanionIsUnknownAndSaysWhy() throws {
        if case .ready = CUDACompanion.shared { return }  // a CUDA machine with the companion built
        let peak = Runtime.peakMemory(on: .cuda(0))
        #expect(peak.kind == .gpu && peak.label == "peak GPU memory" && peak.metricsKey == "peak_gpu_memory_mb")
        #expect(peak.bytes == nil, "host RSS reported as GPU memory")
        #expect(peak.note == CUDACompanion.shared.reason && peak.note?.isEmpty == false, "\(peak.note ?? "")")
        #expect(!Runtime.resetPeakMemory(on: .cuda(0)) && !Runtime.resetPeakMemory(on: .cpu))
    }

    /// The loader on stand-ins built here: a missing file, a library without the symbols, one built for another
    /// torch, one whose CUDA runtime sees no device, and one that sees a device and reads memory.
    @Test func loaderUsesTheCompanionOrSaysWhyNot() throws {
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
        func standIn(_ name: String, torch: String, devices: Int) throws -> String {
            try build(name, """
                #include <stdint.h>
                const char *ctc_last_error(void) { return "cudaErrorNoDevice: no CUDA-capable device is detected"; }
                const char *ctc_torch_version(void) { return "\(torch)"; }
                int ctc_nccl_version(void) { return 22809; }
                int ctc_cuda_device_count(void) { return \(devices); }
                int ctc_cuda_memory(int d, int64_t *out) { for (int i = 0; i < 4; i++) out[i] = 1000 * (i + 1) + d; return 0; }
                int ctc_cuda_reset_peak_memory(int d) { return 0; }
                void *ctc_nccl_backend(void *s, int r, int n, int64_t t) { return 0; }
                """)
        }
        let missing = root.appendingPathComponent("absent/libctorch_cuda.so").path
        let reason = try #require(CUDACompanion.load(candidates: [missing]).reason)
        #expect(reason.hasPrefix("companion library libctorch_cuda.so not loaded") && reason.contains(missing), "\(reason)")

        let wrong = try build("wrong", "long ctc_cuda_max_memory_allocated(int d) { return d; }\n")
        let reason2 = try #require(CUDACompanion.load(candidates: [wrong]).reason)
        #expect(reason2.contains("no symbol ctc_last_error, ctc_torch_version"), "\(reason2)")

        let other = try standIn("other", torch: "1.13.1", devices: 1)
        let reason3 = try #require(CUDACompanion.load(candidates: [missing, wrong, other]).reason)
        #expect(reason3.contains("built against torch 1.13.1, csm runs torch \(Runtime.torchVersion)"), "\(reason3)")

        let noGPU = try standIn("nogpu", torch: Runtime.torchVersion, devices: 0)
        let reason4 = try #require(CUDACompanion.load(candidates: [noGPU]).reason)
        #expect(reason4.hasPrefix("no CUDA device") && reason4.contains("cudaErrorNoDevice"), "\(reason4)")

        let good = try standIn("good", torch: Runtime.torchVersion, devices: 2)
        let companion = try #require(CUDACompanion.load(candidates: [missing, good]).companion)
        #expect(companion.path == good && companion.deviceCount == 2 && companion.ncclVersion == "2.28.9")
        #expect(try companion.memory(device: 1) == CUDAMemory(allocated: 1001, peakAllocated: 2001, reserved: 3001, peakReserved: 4001))
    }

    /// A companion linked against another torch's CUDA libraries would put two copies of them in one process.
    @Test func cudaLibrariesFromAnotherTorchAreNamed() {
        let maps = """
            7f00-7f01 r-xp 0 08:01 1 /opt/torch/lib/libtorch_cpu.so
            7f02-7f03 r-xp 0 08:01 2 /opt/torch/lib/libc10_cuda.so
            """
        #expect(CUDACompanion.foreignCUDALibraries(linkedFolder: "/opt/torch/lib", maps: maps) == nil)
        let foreign = maps + "\n7f04-7f05 r-xp 0 08:01 3 /venv/torch/lib/libtorch_cuda.so"
        #expect(CUDACompanion.foreignCUDALibraries(linkedFolder: "/opt/torch/lib", maps: foreign) == "/venv/torch/lib/libtorch_cuda.so")
    }
}
