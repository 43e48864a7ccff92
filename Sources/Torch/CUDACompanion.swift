import CTorch
import Foundation

/// The optional CUDA companion library, `libctorch_cuda.so` (tools/cuda/ctorch_cuda.cpp): the few bridges
/// that need CUDA, NCCL or c10_cuda headers, which the shim (built against the CPU-only libtorch) cannot
/// include: the caching allocator's memory figures and ProcessGroupNCCL. Built by `make cuda-companion`
/// (or `make setup CUDA=1`); looked for at `$CSM_CTORCH_CUDA`, next to the executable, next to the linked
/// libtorch, then on the loader's path. Loaded only when something on a CUDA device asks for it (never by a
/// CPU run), once per process; without it, GPU memory is "unknown" and collectives stay on Gloo, with the
/// reason said.
public final class CUDACompanion: @unchecked Sendable {
    public static let library = "libctorch_cuda.so"
    /// The C symbols csm uses; a library without one of them is not the companion (or an older build).
    public static let symbols = ["ctc_last_error", "ctc_torch_version", "ctc_nccl_version", "ctc_cuda_device_count",
                                 "ctc_cuda_memory", "ctc_cuda_reset_peak_memory", "ctc_nccl_backend"]

    /// Where it was loaded from.
    public let path: String
    /// CUDA devices the runtime sees (at least one, or the companion is `.unavailable`).
    public let deviceCount: Int
    /// "2.28.9", nil when NCCL's version could not be read.
    public let ncclVersion: String?

    private let lastError: @convention(c) () -> UnsafePointer<CChar>?
    private let memoryFn: @convention(c) (Int32, UnsafeMutablePointer<Int64>?) -> Int32
    private let resetPeakFn: @convention(c) (Int32) -> Int32
    private let ncclBackendFn: @convention(c) (UnsafeMutableRawPointer?, Int32, Int32, Int64) -> UnsafeMutableRawPointer?

    /// What loading gave: the companion, or why there is none (for logs and metrics notes).
    public enum Status: Sendable {
        case ready(CUDACompanion)
        case unavailable(reason: String)

        public var companion: CUDACompanion? { if case .ready(let c) = self { return c } else { return nil } }
        public var reason: String? { if case .unavailable(let r) = self { return r } else { return nil } }
    }

    /// Resolved at the first use, once per process.
    public static var shared: Status {
        lock.lock()
        defer { lock.unlock() }
        if let loaded { return loaded }
        // Without libtorch's CUDA backend in this process, CUDA is off and the companion has nothing to read;
        // loading it anyway would bring another torch's CUDA libraries in. `CSM_CTORCH_CUDA` (an explicit
        // request, as `csm-bench devices` checks) loads it regardless.
        let backend = Runtime.prepareBackends()
        let explicit = ProcessInfo.processInfo.environment["CSM_CTORCH_CUDA"].map { !$0.isEmpty } ?? false
        let status = !backend.loaded && !explicit
            ? .unavailable(reason: "CUDA is off in this process (\(backend.message)), so the companion \(library) is not loaded")
            : load(candidates: candidates())
        loaded = status
        return status
    }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: Status?

    public static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths: [String] = []
        if let explicit = environment["CSM_CTORCH_CUDA"], !explicit.isEmpty { return [explicit] }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            paths.append((exe as NSString).deletingLastPathComponent + "/" + library)
        }
        if let torch = Runtime.linkedLibtorchFolder { paths.append(torch + "/" + library) }
        paths.append(library)  // LD_LIBRARY_PATH and the system's folders
        return paths
    }

    /// The first candidate that loads and has every symbol; then checks, in this order, that it was built
    /// for the torch this process runs (`ctc_torch_version`), that CUDA sees a device, and that the CUDA
    /// libraries it brought in are the linked libtorch's own. Never crashes on a machine without a GPU:
    /// the runtime's answer becomes "no CUDA device (…)".
    public static func load(candidates: [String]) -> Status {
        Runtime.prepareBackends()  // libtorch_cuda.so first, so the companion links against that copy
        var why: [String] = []
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                let error = dlerror().map { String(cString: $0) } ?? "cannot load"
                why.append(error.contains("No such file") || error.contains("cannot open shared object file: No such")
                           ? "\(path): not found" : error)
                continue
            }
            let missing = symbols.filter { dlsym(handle, $0) == nil }
            guard missing.isEmpty else {
                why.append("\(path): no symbol \(missing.joined(separator: ", ")) (an older build? rerun make cuda-companion)")
                dlclose(handle)
                continue
            }
            return check(CUDACompanion(path: path, handle: handle))
        }
        return .unavailable(reason: "companion library \(library) not loaded (\(why.joined(separator: "; "))): "
            + "build it with `make cuda-companion` (or make setup CUDA=1)")
    }

    private static func check(_ companion: CUDACompanion) -> Status {
        let theirs = companion.torchVersion, ours = Runtime.torchVersion
        guard theirs == ours else {
            return .unavailable(reason: "\(companion.path) was built against torch \(theirs), csm runs torch \(ours): "
                + "rebuild it with `make cuda-companion` against the torch csm links")
        }
        guard companion.deviceCount > 0 else {
            return .unavailable(reason: "no CUDA device (\(companion.path) loaded; the CUDA runtime says: "
                + "\(companion.error))")
        }
        if let foreign = foreignCUDALibraries(linkedFolder: Runtime.linkedLibtorchFolder,
                                               maps: Runtime.procFile("/proc/self/maps") ?? "") {
            return .unavailable(reason: "\(companion.path) brought in \(foreign), not the linked libtorch's: rebuild it "
                + "with `make cuda-companion` against the torch csm links (two copies of a CUDA library in one process)")
        }
        return .ready(companion)
    }

    /// A libtorch_cuda.so or libc10_cuda.so mapped from another folder than the linked libtorch's, when the
    /// linked libtorch has its own; nil when all is well (or nothing can be told).
    static func foreignCUDALibraries(linkedFolder: String?, maps: String) -> String? {
        guard let linkedFolder else { return nil }
        let mine = URL(fileURLWithPath: linkedFolder).resolvingSymlinksInPath().path
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let file = String(line[slash...])
            let name = (file as NSString).lastPathComponent
            guard name == "libtorch_cuda.so" || name == "libc10_cuda.so" else { continue }
            let folder = URL(fileURLWithPath: (file as NSString).deletingLastPathComponent).resolvingSymlinksInPath().path
            if folder != mine { return file }
        }
        return nil
    }

    private init(path: String, handle: UnsafeMutableRawPointer) {
        func fn<T>(_ name: String, _: T.Type) -> T { unsafeBitCast(dlsym(handle, name)!, to: T.self) }
        self.path = path
        lastError = fn("ctc_last_error", (@convention(c) () -> UnsafePointer<CChar>?).self)
        memoryFn = fn("ctc_cuda_memory", (@convention(c) (Int32, UnsafeMutablePointer<Int64>?) -> Int32).self)
        resetPeakFn = fn("ctc_cuda_reset_peak_memory", (@convention(c) (Int32) -> Int32).self)
        ncclBackendFn = fn("ctc_nccl_backend",
                           (@convention(c) (UnsafeMutableRawPointer?, Int32, Int32, Int64) -> UnsafeMutableRawPointer?).self)
        let version = fn("ctc_torch_version", (@convention(c) () -> UnsafePointer<CChar>?).self)()
        torchVersion = version.map { String(cString: $0) } ?? "?"
        let nccl = Int(fn("ctc_nccl_version", (@convention(c) () -> Int32).self)())
        // NCCL_VERSION_CODE: major·10000 + minor·100 + patch since 2.9.
        ncclVersion = nccl > 0 ? "\(nccl / 10000).\(nccl / 100 % 100).\(nccl % 100)" : nil
        deviceCount = Int(fn("ctc_cuda_device_count", (@convention(c) () -> Int32).self)())
    }

    /// The torch version the companion's headers belong to.
    public let torchVersion: String

    var error: String { lastError().map { String(cString: $0) } ?? "unknown error" }

    /// The caching allocator's figures for `device` (torch.cuda.memory_stats()'s aggregate pool).
    public func memory(device: Int) throws -> CUDAMemory {
        var values = [Int64](repeating: 0, count: 4)
        guard memoryFn(Int32(device), &values) == 0 else { throw TorchError("cuda:\(device) memory: \(error)") }
        return CUDAMemory(allocated: Int(values[0]), peakAllocated: Int(values[1]),
                          reserved: Int(values[2]), peakReserved: Int(values[3]))
    }

    /// torch.cuda.reset_peak_memory_stats(device).
    public func resetPeak(device: Int) throws {
        guard resetPeakFn(Int32(device)) == 0 else { throw TorchError("cuda:\(device) reset of peak memory: \(error)") }
    }

    /// A ProcessGroupNCCL over `store` (a c10d::Backend* holding one reference, for ProcessGroup.make).
    func ncclBackend(store: TCPStore, rank: Int, size: Int, timeout: Double) throws -> UnsafeMutableRawPointer {
        guard let backend = ncclBackendFn(ct_store_c10d(store.handle), Int32(rank), Int32(size), Int64(timeout * 1000))
        else { throw TorchError("ProcessGroupNCCL: \(error)") }
        return backend
    }
}

/// torch.cuda.memory_allocated / max_memory_allocated / memory_reserved / max_memory_reserved, in bytes.
public struct CUDAMemory: Sendable, Equatable {
    public var allocated: Int
    public var peakAllocated: Int
    public var reserved: Int
    public var peakReserved: Int
}

extension Runtime {
    /// The torch version the shim was built against ("2.11.0").
    public static var torchVersion: String { String(cString: ct_torch_version()) }
}
