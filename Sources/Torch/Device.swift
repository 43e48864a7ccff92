import CTorch
import Foundation

/// Where a tensor lives. CUDA is available only when the libtorch in use was built with it.
public enum Device: Equatable, Hashable, Sendable, CustomStringConvertible {
    case cpu
    case cuda(Int)
    case mps

    var code: (type: Int32, index: Int32) {
        switch self {
        case .cpu: return (Int32(CT_CPU), 0)
        case .cuda(let i): return (Int32(CT_CUDA), Int32(i))
        case .mps: return (Int32(CT_MPS), 0)
        }
    }

    init(type: Int32, index: Int32) {
        switch Int(type) {
        case CT_CUDA: self = .cuda(Int(index))
        case CT_MPS: self = .mps
        default: self = .cpu
        }
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let i): return "cuda:\(i)"
        case .mps: return "mps"
        }
    }

    /// Parses `auto`, `cpu`, `cuda`, `cuda:N` or `mps`; `auto` picks CUDA, then MPS, then CPU.
    public static func parse(_ text: String) throws -> Device {
        switch text.lowercased() {
        case "auto":
            if Runtime.cudaDeviceCount > 0 { return .cuda(0) }
            if Runtime.mpsAvailable { return .mps }
            return .cpu
        case "cpu": return .cpu
        case "mps":
            guard Runtime.mpsAvailable else { throw TorchError("--device mps: this libtorch has no MPS backend") }
            return .mps
        default:
            guard text.lowercased().hasPrefix("cuda") else {
                throw TorchError("unknown device '\(text)': use auto, cpu, cuda, cuda:N or mps")
            }
            let index = text.split(separator: ":").dropFirst().first.flatMap { Int($0) } ?? 0
            let count = Runtime.cudaDeviceCount
            guard count > 0 else {
                throw TorchError("--device \(text): no CUDA device is visible to this libtorch "
                    + "(point LIBTORCH at a CUDA build of torch and check nvidia-smi)")
            }
            guard index < count else { throw TorchError("--device \(text): only \(count) CUDA device(s)") }
            return .cuda(index)
        }
    }
}

/// Process-wide libtorch settings.
public enum Runtime {
    /// Seeds libtorch's default generators (CPU and every CUDA device).
    public static func manualSeed(_ seed: UInt64) { ct_manual_seed(seed) }

    /// Intra-op threads used by libtorch kernels.
    public static var threads: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(newValue)) }
    }

    /// The instruction set libtorch's CPU kernels are dispatched for ("DEFAULT", "AVX2", "AVX512", …): the
    /// best the CPU has, or lower when `ATEN_CPU_CAPABILITY` asks (the portability pass of `make test`).
    public static var cpuCapability: String { String(cString: ct_cpu_capability()) }

    /// The folder holding libtorch_cpu.so: LIBTORCH when set, else wherever the loader found it.
    static var libraryFolder: String? {
        if let root = ProcessInfo.processInfo.environment["LIBTORCH"] { return root + "/lib" }
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
        for line in maps.split(separator: "\n") where line.hasSuffix("/libtorch_cpu.so") {
            if let path = line.split(separator: " ").last {
                return (String(path) as NSString).deletingLastPathComponent
            }
        }
        return nil
    }

    /// Loads libtorch's CUDA backend once, when the libtorch in use ships it.
    private static let cudaLoaded: Bool = {
        guard let folder = libraryFolder,
              FileManager.default.fileExists(atPath: folder + "/libtorch_cuda.so") else { return false }
        return ct_load_cuda(folder) == 0
    }()

    public static var cudaDeviceCount: Int {
        _ = cudaLoaded
        return Int(ct_cuda_device_count())
    }

    public static var mpsAvailable: Bool { ct_mps_is_available() != 0 }

    /// Waits for queued kernels on `device` (a no-op on CPU).
    public static func synchronize(_ device: Device) throws {
        let c = device.code
        try check(ct_synchronize(c.type, c.index))
    }
}
