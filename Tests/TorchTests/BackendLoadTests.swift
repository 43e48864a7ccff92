import Foundation
import Testing
@testable import Torch

/// ATen creates its CUDA hooks once, at the first question asked of them; asked before libtorch_cuda.so is
/// loaded, CUDA is off for the whole process. These tests hold every Swift entry point that reaches the
/// hooks to `Runtime.prepareBackends()` first, and the loader to the libtorch actually linked.
/// Serialized: they reset the process-wide record of the load attempt.
@Suite(.serialized) struct BackendLoadTests {
    /// The entry points that can reach ATen's CUDA hooks, each called as a process's first libtorch call.
    enum EntryPoint: String, CaseIterable, Sendable {
        case manualSeed, cudaDeviceCount, mpsAvailable, synchronizeCUDA, parseAuto, parseCUDA, cudaTensor,
             toCUDA, backward

        /// Whether the shim itself asks the hooks here (so its note of a query must follow the attempt).
        var queriesCUDAHooks: Bool { ![.mpsAvailable].contains(self) }

        func call() throws {
            switch self {
            case .manualSeed: Runtime.manualSeed(1)
            case .cudaDeviceCount: _ = Runtime.cudaDeviceCount
            case .mpsAvailable: _ = Runtime.mpsAvailable
            // Without a CUDA device these throw; what matters is what happened before they reached ATen.
            case .synchronizeCUDA: _ = try? Runtime.synchronize(.cuda(0))
            case .parseAuto: _ = try Device.parse("auto")
            case .parseCUDA: _ = try? Device.parse("cuda:0")
            case .cudaTensor: _ = try? Tensor.zeros([2], device: .cuda(0))
            case .toCUDA: _ = try? Tensor.ones([2]).to(.cuda(0))
            case .backward:
                let x = try Tensor.ones([2]).requiresGrad(true)
                try (x * 2.0).sum().backward()
            }
        }
    }

    @Test(arguments: EntryPoint.allCases) func loadIsAttemptedBeforeAnyCUDAQuery(_ entry: EntryPoint) throws {
        Runtime.forgetBackendLoadForTesting()
        #expect(!Runtime.cudaHooksQueried)
        try entry.call()
        let record = try #require(Runtime.backendLoad, "\(entry) reached libtorch without Runtime.prepareBackends()")
        #expect(record.beforeFirstCUDAQuery, "\(entry): \(record.message)")
        if entry.queriesCUDAHooks {
            // The shim did ask (so the order above was really tested).
            #expect(Runtime.cudaHooksQueried, "\(entry) did not reach the CUDA hooks")
        }
    }

    /// Seeding first, then choosing the device: the order `csm` used to get wrong.
    @Test func seedingFirstStillLeavesCUDAAvailable() throws {
        Runtime.forgetBackendLoadForTesting()
        Runtime.manualSeed(3)
        let record = try #require(Runtime.backendLoad)
        #expect(record.beforeFirstCUDAQuery && Runtime.cudaHooksQueried)
        if record.candidate == nil {
            #expect(Runtime.cudaDeviceCount == 0)
            // The error for --device cuda says why there is no CUDA.
            #expect { try Device.parse("cuda") } throws: { "\($0)".contains(record.message) }
        }
    }

    /// A stand-in torch (LIBTORCH) with a loadable libtorch_cuda.so of its own: never the one loaded.
    @Test func candidateComesFromTheLinkedLibtorchNotLIBTORCH() throws {
        let linked = try #require(Runtime.linkedLibtorchFolder, "libtorch_cpu.so not in /proc/self/maps")
        #expect(FileManager.default.fileExists(atPath: linked + "/libtorch_cpu.so"))

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("csm-standin-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        let standIn = root.appendingPathComponent("torch")
        try FileManager.default.createDirectory(at: standIn.appendingPathComponent("lib"), withIntermediateDirectories: true)
        let source = root.appendingPathComponent("fake.c")
        try "int csm_standin_torch_cuda_marker(void) { return 42; }\n".write(to: source, atomically: true, encoding: .utf8)
        let fake = standIn.path + "/lib/libtorch_cuda.so"
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-o", fake, source.path]
        try cc.run()
        cc.waitUntilExit()
        try #require(cc.terminationStatus == 0 && FileManager.default.fileExists(atPath: fake), "cc -shared failed")

        // The choice alone: a linked folder that has the backend wins over LIBTORCH's.
        let other = root.appendingPathComponent("linked").path
        let exists: (String) -> Bool = { $0 == other + "/libtorch_cuda.so" || $0 == fake }
        #expect(Runtime.cudaLibrary(linkedFolder: other, environment: ["LIBTORCH": standIn.path], exists: exists).path
                == other + "/libtorch_cuda.so")
        // … and a linked folder without one does not fall back to LIBTORCH's (another build).
        let without = Runtime.cudaLibrary(linkedFolder: root.path, environment: ["LIBTORCH": standIn.path], exists: exists)
        #expect(without.path == nil && without.reason.contains("LIBTORCH=\(standIn.path) is another torch"), "\(without)")
        // LIBTORCH only where the linked library cannot be located.
        #expect(Runtime.cudaLibrary(linkedFolder: nil, environment: ["LIBTORCH": standIn.path], exists: exists).path == fake)

        // The real loader, with LIBTORCH pointing at the stand-in.
        let saved = ProcessInfo.processInfo.environment["LIBTORCH"]
        setenv("LIBTORCH", standIn.path, 1)
        defer { if let saved { setenv("LIBTORCH", saved, 1) } else { unsetenv("LIBTORCH") } }
        Runtime.forgetBackendLoadForTesting()
        let record = Runtime.prepareBackends()
        #expect(record.candidate != fake, "\(record.message)")
        #expect(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "csm_standin_torch_cuda_marker") == nil,
                "the stand-in's libtorch_cuda.so was loaded")
        if let candidate = record.candidate {
            #expect(candidate == linked + "/libtorch_cuda.so")
        } else {
            #expect(record.message.contains(linked) && record.message.contains("is another torch"), "\(record.message)")
        }
    }
}
