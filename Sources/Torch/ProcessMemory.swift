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
    /// caching allocator's peak (torch.cuda.max_memory_allocated) read through the CUDA companion,
    /// or unknown with the reason. Host RSS is never passed off as GPU memory.
    public static func peakMemory(on device: Device) -> PeakMemory {
        switch device {
        case .cpu:
            return PeakMemory(kind: .hostRSS, bytes: peakResidentBytes,
                              note: peakResidentBytes == nil ? "no /proc/self/status on this system" : nil)
        case .cuda(let index):
            switch CUDACompanion.shared {
            case .ready(let companion):
                do {
                    return PeakMemory(kind: .gpu, bytes: try companion.memory(device: index).peakAllocated, note: nil)
                } catch {
                    return PeakMemory(kind: .gpu, bytes: nil, note: "\(error)")
                }
            case .unavailable(let reason):
                return PeakMemory(kind: .gpu, bytes: nil, note: reason)
            }
        case .mps:
            return PeakMemory(kind: .gpu, bytes: nil, note: "the MPS allocator's peak is not read by csm")
        }
    }

    /// Starts the peak of `peakMemory(on:)` again from what is allocated now (torch.cuda.reset_peak_memory_stats),
    /// for a figure of one phase (the benches' steady state). The host's peak RSS cannot be reset: false there,
    /// and where the CUDA companion is unavailable.
    @discardableResult
    public static func resetPeakMemory(on device: Device) -> Bool {
        guard case .cuda(let index) = device, let companion = CUDACompanion.shared.companion else { return false }
        return (try? companion.resetPeak(device: index)) != nil
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
