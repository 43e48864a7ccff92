import Foundation
import Testing
import TestSupport
import Torch

/// What keeps the CUDA path from rotting on machines without a GPU: the CUDA companion (libctorch_cuda.so),
/// which `make test` builds against the reference venv's CUDA torch before the tests, exports the symbols csm
/// uses and, loaded where there is no GPU, makes csm say "no CUDA device" instead of crashing; and
/// scripts/gpu_check.sh --dry-run, the GPU machine's script, runs every part a CPU can.
@Suite(.serialized) struct GPUReadinessTests {
    static let build = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static let companion = build.appendingPathComponent(CUDACompanion.library).path
    static let built = "\(companion) is missing: make test builds it (scripts/build_cuda_companion.sh, after swift build)"

    /// Runs `executable args` from the repository root; stdout, stderr, exit status.
    static func exec(_ executable: String, _ args: [String], environment: [String: String] = [:],
                     timeout: TimeInterval = 600) throws -> (status: Int32, exited: Bool, stdout: String, stderr: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gpu-readiness-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = repositoryRoot
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(10_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            Issue.record("\(executable): still running after \(Int(timeout)) s, killed")
        }
        p.waitUntilExit()
        try out.close()
        try err.close()
        return (p.terminationStatus, p.terminationReason == .exit,
                String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    @Test func companionExportsWhatCSMUses() throws {
        try #require(FileManager.default.fileExists(atPath: Self.companion), "\(Self.built)")
        let nm = try Self.exec("/usr/bin/env", ["nm", "-D", "--defined-only", Self.companion])
        try #require(nm.status == 0, "nm -D: \(nm.stderr)")
        let exported = Set(nm.stdout.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            return f.count == 3 && f[1] == "T" ? String(f[2]) : nil
        })
        for symbol in CUDACompanion.symbols {
            #expect(exported.contains(symbol), "\(Self.companion) does not export \(symbol)")
        }
        // It links libtorch's CUDA libraries and NCCL, not a copy of its own.
        let needed = try Self.exec("/usr/bin/env", ["readelf", "-d", Self.companion]).stdout
        for lib in ["libtorch_cuda.so", "libc10_cuda.so", "libnccl.so.2", "libcudart.so.13"] {
            #expect(needed.contains("[\(lib)]"), "\(Self.companion) does not link \(lib)")
        }
    }

    /// The real companion loaded in a process on a machine without a GPU: the CUDA runtime answers, csm says
    /// "no CUDA device" with its words, and nothing crashes.
    @Test func companionWithoutAGPUSaysNoCUDADevice() throws {
        try #require(FileManager.default.fileExists(atPath: Self.companion), "\(Self.built)")
        try #require(Runtime.cudaDeviceCount == 0, "this check is for machines without a GPU")
        let bench = Self.build.appendingPathComponent("csm-bench").path
        let r = try Self.exec(bench, ["devices"], environment: ["CSM_CTORCH_CUDA": Self.companion], timeout: 120)
        #expect(r.exited && r.status == 0, "csm-bench devices: status \(r.status)\n\(r.stdout)\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        let companion = try #require(json["companion"] as? [String: Any])
        #expect(companion["status"] as? String == "unavailable")
        let reason = companion["reason"] as? String ?? ""
        #expect(reason.hasPrefix("no CUDA device (\(Self.companion) loaded; the CUDA runtime says: cudaError"), "\(reason)")
    }

    /// The GPU machine's script, in its dry run: every check it can make on a CPU passes, and it writes the JSON
    /// and the table.
    @Test(.enabled(if: PythonChecks.isAvailable, "tools/.venv missing: run make venv"))
    func gpuCheckDryRunPasses() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gpu-check-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let script = repositoryRoot.appendingPathComponent("scripts/gpu_check.sh").path
        let r = try Self.exec(script, ["--dry-run"], environment: ["OUT": out.path, "BIN": Self.build.path,
                                                                    "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"])
        #expect(r.exited && r.status == 0, "gpu_check.sh --dry-run: status \(r.status)\n\(r.stdout.suffix(4000))\(r.stderr.suffix(4000))")
        let data = try Data(contentsOf: out.appendingPathComponent("gpu_check.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let checks = try #require(summary["checks"] as? [String: [String: Any]])
        for name in [
            "devices", "eval_parity", "train_parity", "greedy_generation", "nccl_world_one", "mixed_precision", "full_size",
        ] {
            #expect(checks[name]?["ok"] as? Bool == true, "\(name): \(checks[name] ?? [:])")
        }
        #expect((checks["nccl_world_one"]?["backend"] as? String)?.hasPrefix("Gloo (1 of 1 rank(s) on the CPU)") == true)
        let table = try String(contentsOf: out.appendingPathComponent("gpu_check.md"), encoding: .utf8)
        #expect(table.contains("DRY RUN") && table.contains("| train_parity | ok"), "\(table)")
    }
}
