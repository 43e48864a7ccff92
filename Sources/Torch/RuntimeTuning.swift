import CTorch
import Foundation

extension Runtime {
    /// What `tuneForTraining()` changed; a setting the user made through the environment wins and is left alone.
    public struct Tuning: Equatable, Sendable {
        /// glibc's mmap and trim thresholds pinned at 32 / 64 MiB.
        public var allocator: Bool
        /// libtorch's `THP_MEM_ALLOC_ENABLE=1`: tensors of 2 MB and more on transparent huge pages.
        public var hugePages: Bool
    }

    /// Process-wide allocator settings measured to pay off in training (BENCHMARKS.md, "Training memory
    /// and speed"). Explicit, not a side effect of loading the library: `csm train` and the training
    /// benchmarks call it first thing; generation and preprocessing, where it was never measured, do not.
    /// Call it before the first tensor is allocated: libtorch reads `THP_MEM_ALLOC_ENABLE` once.
    ///
    /// - Allocator: glibc serves blocks above its mmap threshold with a fresh mmap and trims the heap
    ///   above its trim threshold; both start at 128 KiB and rose only as large blocks were freed, so every
    ///   transient tensor of a few hundred KB was mapped, page-faulted and unmapped anew (an AdamW step over
    ///   100 tensors of 100k floats: 16,300 page faults and twice Python torch's time, which had none).
    ///   Pinned at glibc's own dynamic maximum (32 MiB, trim at twice that); bigger tensors are still
    ///   mapped and returned on free. Skipped when GLIBC_TUNABLES (glibc.malloc.*) or MALLOC_*_ is set.
    /// - Huge pages: with the kernel's default THP mode `madvise`, each fresh multi-MB activation was
    ///   faulted in 4 KB at a time, which made an elementwise pass over a (9600, 8192) float tensor 3-4×
    ///   slower than its arithmetic. Skipped when THP_MEM_ALLOC_ENABLE is set.
    @discardableResult
    public static func tuneForTraining() -> Tuning {
        let env = ProcessInfo.processInfo.environment
        var tuning = Tuning(allocator: false, hugePages: false)
        let userMalloc = (env["GLIBC_TUNABLES"]?.contains("glibc.malloc.") ?? false)
            || env["MALLOC_MMAP_THRESHOLD_"] != nil || env["MALLOC_TRIM_THRESHOLD_"] != nil
        if !userMalloc {
            tuning.allocator = ct_set_malloc_thresholds(32 << 20, 64 << 20) == 1
        }
        if env["THP_MEM_ALLOC_ENABLE"] == nil {
            tuning.hugePages = setenv("THP_MEM_ALLOC_ENABLE", "1", 0) == 0
        }
        return tuning
    }
}
