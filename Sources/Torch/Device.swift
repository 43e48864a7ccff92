import CTorch
import Foundation

/// Where a tensor lives. CUDA is available only when the libtorch in use was built with it.
public enum Device: Equatable, Hashable, Sendable, CustomStringConvertible {
    case cpu
    case cuda(Int)
    case mps

    /// The shim's device codes. Every C call given a device takes them from here, so a CUDA or MPS
    /// device loads the backends first (`Runtime.prepareBackends()`): a CUDA tensor made before
    /// libtorch_cuda.so is loaded would leave CUDA off for the process.
    var code: (type: Int32, index: Int32) {
        switch self {
        case .cpu: return (Int32(CT_CPU), 0)
        case .cuda(let i):
            Runtime.prepareBackends()
            return (Int32(CT_CUDA), Int32(i))
        case .mps:
            Runtime.prepareBackends()
            return (Int32(CT_MPS), 0)
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
        Runtime.prepareBackends()
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
                    + "(\(Runtime.prepareBackends().message); build with LIBTORCH pointing at a CUDA build of torch "
                    + "and check nvidia-smi)")
            }
            guard index < count else { throw TorchError("--device \(text): only \(count) CUDA device(s)") }
            return .cuda(index)
        }
    }
}

/// Process-wide libtorch settings.
///
/// libtorch's CUDA backend is a separate library, libtorch_cuda.so, that nothing links: it is loaded at
/// run time. ATen creates its CUDA hooks once, at the first question anything asks of them (seeding,
/// counting devices, synchronizing, a backward, a CUDA tensor); asked before the library is loaded, CUDA
/// is off for the whole process. So every entry point here that reaches the hooks, `Device.parse`, and
/// every C call given a non-CPU device (`Device.code`) calls `prepareBackends()` first.
public enum Runtime {
    /// Seeds libtorch's default generators (CPU and every CUDA device).
    public static func manualSeed(_ seed: UInt64) {
        prepareBackends()
        ct_manual_seed(seed)
    }

    /// Intra-op threads used by libtorch kernels.
    public static var threads: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(newValue)) }
    }

    /// The instruction set libtorch's CPU kernels are dispatched for ("DEFAULT", "AVX2", "AVX512", …): the
    /// best the CPU has, or lower when `ATEN_CPU_CAPABILITY` asks (the portability pass of `make test`).
    public static var cpuCapability: String { String(cString: ct_cpu_capability()) }

    public static var cudaDeviceCount: Int {
        prepareBackends()
        return Int(ct_cuda_device_count())
    }

    public static var mpsAvailable: Bool {
        prepareBackends()
        return ct_mps_is_available() != 0
    }

    /// Waits for queued kernels on `device` (a no-op on CPU).
    public static func synchronize(_ device: Device) throws {
        prepareBackends()
        let c = device.code
        try check(ct_synchronize(c.type, c.index))
    }
}

// MARK: - Loading the CUDA backend

/// What `Runtime.prepareBackends()` did about libtorch's CUDA backend: the file it loaded, or why none.
public struct BackendLoad: Sendable, Equatable, CustomStringConvertible {
    /// The libtorch_cuda.so chosen, nil when there is none to load.
    public let candidate: String?
    /// Whether `candidate` was loaded.
    public let loaded: Bool
    /// True when no shim entry point had asked ATen's CUDA hooks anything before this attempt. False
    /// means CUDA stays off for this process even if the library loaded.
    public let beforeFirstCUDAQuery: Bool
    /// The file loaded, or why none was (for logs and errors).
    public let message: String

    public var description: String { message }
}

extension Runtime {
    /// Loads libtorch's CUDA backend (libtorch_cuda.so next to the libtorch_cpu.so this process runs)
    /// once per process, before anything can ask ATen's CUDA hooks. Cheap after the first call; every
    /// entry point that reaches the hooks calls it. Returns what was loaded, or why nothing was.
    @discardableResult
    public static func prepareBackends() -> BackendLoad {
        backendLock.lock()
        defer { backendLock.unlock() }
        if let done = backendRecord { return done }
        let record = loadCUDABackend()
        backendRecord = record
        // Silence is right when there is nothing to load (a CPU-only libtorch); a CUDA libtorch whose
        // backend does not load is worth a line, since every CUDA device will then look absent.
        if record.candidate != nil && (!record.loaded || !record.beforeFirstCUDAQuery) {
            FileHandle.standardError.write(Data("[torch] \(record.message)\n".utf8))
        }
        return record
    }

    /// What the first `prepareBackends()` of this process did; nil before it.
    public static var backendLoad: BackendLoad? {
        backendLock.lock()
        defer { backendLock.unlock() }
        return backendRecord
    }

    /// Tests only: forgets the load attempt and the shim's note of CUDA queries, so the next entry point
    /// attempts again (dlopen of a loaded library is a no-op) as the first one of a process would.
    static func forgetBackendLoadForTesting() {
        backendLock.lock()
        defer { backendLock.unlock() }
        backendRecord = nil
        ct_forget_cuda_hooks_queries()
    }

    /// Whether an entry point of the shim has asked ATen's CUDA hooks anything yet (since the last
    /// `forgetBackendLoadForTesting()`).
    static var cudaHooksQueried: Bool { ct_cuda_hooks_queried() != 0 }

    private static let backendLock = NSLock()
    nonisolated(unsafe) private static var backendRecord: BackendLoad?

    private static func loadCUDABackend() -> BackendLoad {
        let first = ct_cuda_hooks_queried() == 0
        let (candidate, reason) = cudaLibrary(linkedFolder: linkedLibtorchFolder,
                                              environment: ProcessInfo.processInfo.environment)
        guard let candidate else {
            return BackendLoad(candidate: nil, loaded: false, beforeFirstCUDAQuery: first, message: reason)
        }
        guard ct_load_cuda(candidate) == 0 else {
            return BackendLoad(candidate: candidate, loaded: false, beforeFirstCUDAQuery: first,
                               message: "CUDA backend not loaded: \(candidate): \(String(cString: ct_last_error()))")
        }
        let message = first ? "CUDA backend loaded from \(candidate)"
            : "CUDA backend loaded from \(candidate) too late: libtorch had already been asked about CUDA, "
              + "which stays off for this process"
        return BackendLoad(candidate: candidate, loaded: true, beforeFirstCUDAQuery: first, message: message)
    }

    /// The folder of the libtorch_cpu.so mapped into this process (/proc/self/maps): the libtorch actually
    /// linked, whatever LIBTORCH says now. nil where /proc is not available.
    public static var linkedLibtorchFolder: String? {
        guard let maps = procFile("/proc/self/maps") else { return nil }
        for line in maps.split(separator: "\n") where line.hasSuffix("/libtorch_cpu.so") {
            if let slash = line.firstIndex(of: "/") {
                return (String(line[slash...]) as NSString).deletingLastPathComponent
            }
        }
        return nil
    }

    /// A /proc file read to its end. (`String(contentsOfFile:)` stops after the first 4 KiB of these files,
    /// whose size reads as 0: /proc/self/maps is longer, and libtorch_cpu.so may be listed past that.)
    static func procFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    /// The libtorch_cuda.so to load, or nil and why not. It must come from the same build as the
    /// libtorch_cpu.so in use (a libtorch_cuda.so of another torch crashes or misbehaves), so it is looked
    /// for next to that one; `$LIBTORCH/lib` only where the linked library cannot be located.
    static func cudaLibrary(linkedFolder: String?, environment: [String: String],
                            exists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        -> (path: String?, reason: String)
    {
        if let linkedFolder {
            let path = linkedFolder + "/libtorch_cuda.so"
            if exists(path) { return (path, "found \(path)") }
            var reason = "no CUDA backend: \(linkedFolder)/libtorch_cpu.so (the libtorch in use) has no libtorch_cuda.so "
                + "beside it (a CPU-only libtorch)"
            if let root = environment["LIBTORCH"],
               URL(fileURLWithPath: root + "/lib").resolvingSymlinksInPath().path
                != URL(fileURLWithPath: linkedFolder).resolvingSymlinksInPath().path {
                reason += "; LIBTORCH=\(root) is another torch, not used: rebuild with it to use its CUDA backend"
            }
            return (nil, reason)
        }
        guard let root = environment["LIBTORCH"] else {
            return (nil, "no CUDA backend: the libtorch in use cannot be located (no /proc/self/maps) and LIBTORCH is not set")
        }
        let path = root + "/lib/libtorch_cuda.so"
        return exists(path) ? (path, "found \(path) (LIBTORCH)") : (nil, "no CUDA backend: \(path) does not exist")
    }
}
