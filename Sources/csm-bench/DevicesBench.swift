// csm-bench devices: what this process can use — the libtorch it runs, libtorch's CUDA backend, the CUDA devices
// and the CUDA companion (libctorch_cuda.so) — as one JSON line. scripts/gpu_check.sh starts with it (its
// presence check); make test runs it with the companion built on a machine without a GPU, where it must say
// "no CUDA device" and exit 0.
import ArgumentParser
import Foundation
import Torch

struct DevicesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "The libtorch in use, its CUDA backend and devices, the CUDA companion (JSON).")

    func run() throws {
        let backend = Runtime.prepareBackends()
        var companion: [String: Any] = [:]
        switch CUDACompanion.shared {  // asked explicitly: this is the check of it
        case .ready(let c):
            companion = ["status": "ready", "path": c.path, "devices": c.deviceCount, "nccl": c.ncclVersion ?? "unknown",
                         "torch": c.torchVersion]
            if let memory = try? c.memory(device: 0) { companion["allocated_bytes"] = memory.allocated }
        case .unavailable(let reason):
            companion = ["status": "unavailable", "reason": reason]
        }
        try printJSON([
            "torch": Runtime.torchVersion, "libtorch": Runtime.linkedLibtorchFolder ?? "unknown",
            "cuda_backend": backend.message, "cuda_backend_loaded": backend.loaded,
            "cuda_devices": Runtime.cudaDeviceCount, "cpu_capability": Runtime.cpuCapability, "companion": companion,
        ])
    }
}
