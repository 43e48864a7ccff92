import Foundation
import Testing
@testable import Torch

/// Behaviour around the ops: errors, memory, grad mode, in-place updates, dtypes, seeding.
@Suite struct RuntimeTests {
    /// The portability pass of `make test` forces ATen's kernels down with ATEN_CPU_CAPABILITY; this fails
    /// if the variable stopped taking effect (and the pass would silently rerun the native kernels).
    @Test func cpuCapabilityFollowsTheEnvironment() throws {
        let capability = Runtime.cpuCapability
        print("ATen CPU capability: \(capability)")
        #expect(["DEFAULT", "AVX2", "AVX512", "ZVECTOR", "VSX", "SVE256", "SVE"].contains(capability))
        // Only downwards is guaranteed: asking for more than the CPU has falls back to what it has.
        if let forced = ProcessInfo.processInfo.environment["ATEN_CPU_CAPABILITY"], ["default", "avx2"].contains(forced) {
            #expect(capability == forced.uppercased())
        }
    }

    @Test func libtorchShapeErrorIsAThrownTorchError() throws {
        let a = try Tensor.ones([2, 3]), b = try Tensor.ones([4, 5])
        do {
            _ = try a.matmul(b)
            Issue.record("matmul of 2x3 and 4x5 did not throw")
        } catch let error as TorchError {
            #expect(error.message.contains("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"), "\(error)")
            #expect(!error.message.contains("Exception raised from"), "no C++ backtrace in the message: \(error)")
        }
        // The process carries on, and the next call does not see a stale error.
        #expect(try a.matmul(b.slice(0, 0, 3).slice(1, 0, 3)).shape == [2, 3])
        #expect(throws: TorchError.self) { try a.reshape([7]) }
        #expect(throws: TorchError.self) { try Tensor.cat([a, b], dim: 0) }
        #expect(throws: TorchError.self) { try Tensor([Float(1), 2, 3], shape: [2, 2]) }
    }

    /// 100 tensors of 200 MB one after another: without deterministic release this would need 20 GB.
    /// All 100 are checked on the process size (`/proc/self/statm` field 1); every tenth is also
    /// written, so that resident memory (field 2) is checked for memory that was really touched.
    @Test func tensorsAreFreedAsSoonAsTheLastReferenceGoes() throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        func statm() throws -> (size: Int, resident: Int) {
            let fields = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
            return (Int(fields[0])! * pageSize, Int(fields[1])! * pageSize)
        }
        let baseline = try statm()
        var peakSize = 0, peakResident = 0
        for i in 0..<100 {
            let t = i % 10 == 0 ? try Tensor.full([50_000_000], Double(i)) : try Tensor.empty([50_000_000])
            #expect(t.count * t.dtype.byteSize == 200_000_000)
            let now = try statm()
            peakSize = Swift.max(peakSize, now.size - baseline.size)
            peakResident = Swift.max(peakResident, now.resident - baseline.resident)
            // A leak would pass 1 GB within five iterations; stop before it hurts the machine.
            if peakSize > 1_000_000_000 || peakResident > 1_000_000_000 { break }
        }
        #expect(peakSize < 1_000_000_000, "process size grew by \(peakSize / 1_000_000) MB over 100 × 200 MB tensors")
        #expect(peakResident < 1_000_000_000, "resident memory grew by \(peakResident / 1_000_000) MB")
        #expect(peakResident > 150_000_000, "the written tensors were not resident (\(peakResident / 1_000_000) MB)")
    }

    /// Temporaries of a few hundred KB (an optimizer's, an activation's) must come from reused heap
    /// memory, not fresh mappings that fault in every page, once `Runtime.tuneForTraining()` ran.
    @Test func transientTensorsReuseHeapMemory() throws {
        Runtime.tuneForTraining()
        func threadFaults() -> Int {
            var usage = rusage()
            getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD: other tests' faults are not ours
            return usage.ru_minflt
        }
        // One intra-op thread, so the pages are touched by this thread (a per-thread setting with OpenMP).
        let threads = Runtime.threads
        Runtime.threads = 1
        defer { Runtime.threads = threads }
        let v = try Tensor.rand([100_000])
        for _ in 0..<5 { _ = try v.sqrt() / 0.5 }
        let before = threadFaults()
        for _ in 0..<50 { _ = try v.sqrt() / 0.5 }
        let faults = threadFaults() - before
        #expect(faults < 500, "\(faults) page faults for 50 × two 400 KB temporaries (fresh mappings would take ~10,000)")
    }

    /// The tuning is an explicit call that leaves a setting the user made alone: once it has set
    /// THP_MEM_ALLOC_ENABLE, a second call finds the variable set and does not touch it again.
    @Test func trainingTuningIsExplicitAndYieldsToTheUser() throws {
        let first = Runtime.tuneForTraining()
        #expect(ProcessInfo.processInfo.environment["THP_MEM_ALLOC_ENABLE"] != nil)
        let second = Runtime.tuneForTraining()
        #expect(!second.hugePages, "a set THP_MEM_ALLOC_ENABLE must win")
        #expect(second.allocator == first.allocator)
    }

    @Test func noGradScopesStopRecordingAndRestore() throws {
        let w = try Tensor.ones([3]).requiresGrad(true)
        #expect(try (w * 2.0).requiresGrad)
        let inside = try withNoGrad { try w * 2.0 }
        #expect(!inside.requiresGrad)
        try withNoGrad {
            let recorded = try withGrad { try w * 2.0 }
            #expect(recorded.requiresGrad)
            #expect(!(try w * 2.0).requiresGrad)
        }
        struct Boom: Error {}
        #expect(throws: Boom.self) { try withNoGrad { throw Boom() } }
        #expect(try (w * 2.0).requiresGrad, "grad mode is back on after a throwing no-grad scope")
    }

    @Test func inPlaceUpdatesMutateSharedStorage() throws {
        let x = try Tensor([Float(1), 2, 3, 4], shape: [2, 2])
        let view = try x.select(0, 1)  // shares storage
        try x.add_(Tensor([Float(10), 20], shape: [2]), alpha: 2)
        try x.mul_(0.5)
        try x.add_(1)
        #expect(try x.toArray(Float.self) == [11.5, 22, 12.5, 23])
        #expect(try view.toArray(Float.self) == [12.5, 23])
        try x.addcmul_(x, Tensor.full([2, 2], 2), value: 0.5)  // x += 0.5 * x * 2
        try x.addcdiv_(Tensor.ones([2, 2]), Tensor.full([2, 2], 4), value: 2)  // x += 2 * 1 / 4
        #expect(try x.toArray(Float.self) == [23.5, 44.5, 25.5, 46.5])
        try x.lerp_(Tensor.zeros([2, 2]), 0.5)
        try x.clamp_(min: 12, max: 23)
        #expect(try x.toArray(Float.self) == [12, 22.25, 12.75, 23])
        try view.fill_(-1)
        try x.indexPut_(Tensor([Int64(0)]), Tensor([Float(5), 6], shape: [1, 2]))
        #expect(try x.toArray(Float.self) == [5, 6, -1, -1])
        try x.copy_(Tensor.full([2], 9))  // broadcast copy
        #expect(try x.toArray(Float.self) == [9, 9, 9, 9])
        try x.zero_()
        #expect(try x.sum().item() == 0)

        // torch refuses in-place updates of a trainable leaf while recording; allowed under no-grad.
        let leaf = try Tensor.ones([2]).requiresGrad(true)
        #expect(throws: TorchError.self) { try leaf.mul_(2) }
        try withNoGrad { try leaf.mul_(2) }
        #expect(try leaf.toArray(Float.self) == [2, 2])
    }

    @Test func everyDTypeRoundTrips() throws {
        func roundTrip<T: TensorScalar & Equatable>(_ values: [T]) throws {
            let t = try Tensor(values, shape: [2, values.count / 2])
            #expect(t.dtype == T.dtype)
            #expect(try t.toArray(T.self) == values, "\(T.dtype)")
            #expect(try t.bytes().count == values.count * T.dtype.byteSize)
            // Through float32 and back (every value here is exact in both).
            #expect(try t.to(.f32).to(T.dtype).toArray(T.self) == values, "\(T.dtype) via f32")
        }
        try roundTrip([Float(1.5), -2, 0, 3.25e-3])
        try roundTrip([1.5, -2, 0, 0.125])
        try roundTrip([Int64(1) << 40, -7, 0, 3].map { Int64($0) })
        try roundTrip([Int32(-100_000), 7, 0, 3])
        try roundTrip([Int16(-300), 7, 0, 3])
        try roundTrip([UInt8(255), 7, 0, 3])
        try roundTrip([Int8(-128), 7, 0, 127])
        try roundTrip([true, false, false, true])
        try roundTrip([Float16(1.5), -2, 0, 65504])
        // bfloat16 has no Swift type: go through float32, and check the stored bit patterns.
        let values: [Float] = [1.5, -2, 0.15625, 256]
        let bf = try Tensor(values).to(.bf16)
        #expect(bf.dtype == .bf16)
        #expect(try bf.toArray(Float.self) == values)
        #expect(try bf.bytes() == [0xC0, 0x3F, 0x00, 0xC0, 0x20, 0x3E, 0x80, 0x43])
        #expect(try Tensor([Float(1) / 3]).to(.bf16).toArray(Float.self) == [0.333984375])
        #expect(Set(DType.allCases) == [.f32, .f16, .bf16, .i64, .i32, .i16, .u8, .bool, .f64, .i8])
        for d in DType.allCases {
            #expect(try Tensor.zeros([3], dtype: d).dtype == d)
            #expect(DType(name: d.safetensorsName) == d)
        }
    }
}

/// Seeding sets libtorch's process-wide generator. Tests of other suites may draw from it at the same
/// moment, so an attempt whose draws were interleaved with theirs is retried; a generator that
/// differs from torch's fails every attempt.
@Suite(.serialized) struct SeededRandomTests {
    static func attempts(_ body: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<5 where try body() { return true }
        return false
    }

    @Test func seededDrawsMatchPythonTorch() throws {
        let file = try TorchFixture.tensors("random")
        let expected = (randn: try file.tensor("randn").toArray(Float.self), rand: try file.tensor("rand").toArray(Float.self),
                        randint: try file.tensor("randint").toArray(Int64.self),
                        after: try file.tensor("randn_after").toArray(Float.self))
        let matched = try Self.attempts {
            Runtime.manualSeed(42)
            let randn = try Tensor.randn([3, 4]), rand = try Tensor.rand([5]), randint = try Tensor.randint(0, 10, [6])
            let after = try Tensor.randn([2])
            return try randn.toArray(Float.self) == expected.randn && rand.toArray(Float.self) == expected.rand
                && randint.toArray(Int64.self) == expected.randint && after.toArray(Float.self) == expected.after
        }
        #expect(matched, "torch.manual_seed(42) draws differ from Python torch's")
    }

    @Test func reseedingRepeatsTheSequence() throws {
        let repeated = try Self.attempts {
            Runtime.manualSeed(7)
            let a = try Tensor.randn([64]).toArray(Float.self)
            Runtime.manualSeed(7)
            return try a == Tensor.randn([64]).toArray(Float.self)
        }
        #expect(repeated)
        Runtime.manualSeed(7)
        let a = try Tensor.randn([64]).toArray(Float.self)
        Runtime.manualSeed(8)
        #expect(try a != Tensor.randn([64]).toArray(Float.self))
    }
}
