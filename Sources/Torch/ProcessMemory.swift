import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Runtime {
    /// Peak resident set size of this process so far (`VmHWM` in /proc/self/status), in bytes; nil
    /// where /proc is not available. Host memory only: tensors on a GPU are not in it.
    public static var peakResidentBytes: Int? {
        guard let status = procFile("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        // "VmHWM:\t  123456 kB": the padding may be a tab alone once the number is wide.
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2, let kb = Int(fields[1]) else { return nil }
        return kb * 1024
    }

    /// The peak memory of work on `device`, said for what it is: host RSS for the CPU; for CUDA the
    /// caching allocator's peak (torch.cuda.max_memory_allocated) read through the companion library,
    /// or unknown with the reason. Host RSS is never passed off as GPU memory.
    public static func peakMemory(on device: Device) -> PeakMemory {
        switch device {
        case .cpu:
            return PeakMemory(kind: .hostRSS, bytes: peakResidentBytes,
                              note: peakResidentBytes == nil ? "no /proc/self/status on this system" : nil)
        case .cuda(let index):
            switch CUDAMemoryCompanion.shared {
            case .loaded(_, let maxAllocated):
                let bytes = maxAllocated(Int32(index))
                return PeakMemory(kind: .gpu, bytes: bytes >= 0 ? Int(bytes) : nil,
                                  note: bytes >= 0 ? nil : "\(CUDAMemoryCompanion.symbol)(\(index)) failed")
            case .notLoaded(let reason):
                return PeakMemory(kind: .gpu, bytes: nil, note: reason)
            }
        case .mps:
            return PeakMemory(kind: .gpu, bytes: nil, note: "the MPS allocator's peak is not read by csm")
        }
    }
}

/// A peak memory figure and what it measures.
public struct PeakMemory: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The process's peak resident set size: host memory.
        case hostRSS
        /// The device allocator's peak: GPU memory.
        case gpu
    }

    public let kind: Kind
    /// nil: unknown (see `note`).
    public let bytes: Int?
    /// Why the figure is unknown, when it is.
    public let note: String?

    /// For people: "peak RSS" or "peak GPU memory".
    public var label: String { kind == .hostRSS ? "peak RSS" : "peak GPU memory" }
    /// The metrics.jsonl / TensorBoard key: `peak_rss_mb` or `peak_gpu_memory_mb`.
    public var metricsKey: String { kind == .hostRSS ? "peak_rss_mb" : "peak_gpu_memory_mb" }
    public var megabytes: Double? { bytes.map { Double($0) / 1_048_576 } }
}

/// The optional companion library that reads CUDA's caching allocator (CUDA headers are needed to build
/// it, so the shim cannot): `libctorch_cuda.so`, exporting `int64_t ctc_cuda_max_memory_allocated(int
/// device)` (bytes, or -1 on failure). Built on a CUDA machine with `make cuda-companion`; looked for at
/// `$CSM_CTORCH_CUDA`, next to the executable, next to the linked libtorch, then on the loader's path.
public enum CUDAMemoryCompanion: Sendable {
    case loaded(path: String, maxMemoryAllocated: @Sendable (Int32) -> Int64)
    case notLoaded(reason: String)

    public static let library = "libctorch_cuda.so"
    public static let symbol = "ctc_cuda_max_memory_allocated"

    /// Resolved once per process.
    public static let shared: CUDAMemoryCompanion = resolve(candidates: candidates())

    public static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths: [String] = []
        if let explicit = environment["CSM_CTORCH_CUDA"] { paths.append(explicit) }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            paths.append((exe as NSString).deletingLastPathComponent + "/" + library)
        }
        if let torch = Runtime.linkedLibtorchFolder { paths.append(torch + "/" + library) }
        paths.append(library)  // LD_LIBRARY_PATH and the system's folders
        return paths
    }

    /// The first candidate that loads and exports `symbol`, or why none did.
    public static func resolve(candidates: [String]) -> CUDAMemoryCompanion {
        var why: [String] = []
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                let error = dlerror().map { String(cString: $0) } ?? "cannot load"
                // A missing file is the common case: name it briefly.
                why.append(error.contains("No such file") || error.contains("cannot open") ? "\(path): not found" : error)
                continue
            }
            guard let address = dlsym(handle, symbol) else {
                why.append("\(path): no symbol \(symbol)")
                dlclose(handle)
                continue
            }
            typealias Fn = @convention(c) (Int32) -> Int64
            let fn = unsafeBitCast(address, to: Fn.self)
            return .loaded(path: path, maxMemoryAllocated: { fn($0) })
        }
        return .notLoaded(reason: "companion library \(library) not loaded (\(why.joined(separator: "; "))): "
            + "GPU memory unknown; build it with `make cuda-companion` on a CUDA machine")
    }
}
