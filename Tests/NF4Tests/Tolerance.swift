import Foundation
@testable import Torch
import TestSupport

/// Every bound this target's suites compare under, declared once, with why it holds on any x86-64 CPU with AVX2
/// or better (ATen picks CPU kernels per instruction set, so reductions and products differ in the last bits).
/// NF4 quantization and dequantization themselves are compared bit for bit: they are elementwise, correctly
/// rounded IEEE operations (a reciprocal, products, comparisons with fixed midpoints) and an exact max, which give
/// the same bits on every CPU. Only what goes through a reduction gets a bound.
enum Tolerance {
    /// Double quantization's offset, the mean of ≤ 300 f32 absmax values, in ulps of the fixture's: ATen sums
    /// with 8 vector lanes under AVX2 and `default`, 16 under AVX512; summing the fixtures' absmax in 1, 8, 16
    /// and 32 interleaved lanes moves the mean by up to 5 ulps (`dq_offset_reordered_ulps`); 16.
    static let meanUlps = 16.0
    /// What shifts with that offset: the absmax of (absmax − offset) per 256-block and the double-quantized
    /// weights (offset + map[code] · absmax2, times the NF4 code), in ulps of their f32 value. absmax2 is down to
    /// ~1/4 of the offset, so an offset moved by `meanUlps` moves it by up to 4× as many of its own ulps (64 on
    /// these fixtures: `dq_absmax_moved_ulps`); 128.
    static let offsetShiftUlps = 128.0
    /// The same in ulps of a bf16/f16 weight: a shift of ≤ 128 f32 ulps (2^-16 relative) crosses at most one
    /// bf16 (2^-8) or f16 (2^-11) rounding boundary.
    static let offsetShiftHalfUlps = 1.0
    /// nf4Linear against the dense product of the dequantized weight, f32: same machine, the same matmul on an
    /// equal weight, only the kernel's blocking may differ; 1e-6 of the largest output.
    static let f32SameProduct = 1e-6
    /// The same in bf16: the output is rounded to 8 bits (2^-9 relative) and the accumulation order may differ;
    /// 1/64 of the largest output.
    static let bf16SameProduct = 1.0 / 64
    /// 8-bit double-quantized scales against the f32 ones: the dynamic map's step near the top of a decade is
    /// ~1 % of the value (a property of the format, not of the CPU); 2 %.
    static let doubleQuantResolution = 0.02
}


/// Largest difference between `a` and `b` in units in the last place of `b`'s values in `dtype` (f32, bf16 or f16).
func ulpDistance(_ a: Tensor, _ b: Tensor, _ dtype: DType) throws -> Double {
    guard a.shape == b.shape else { return .infinity }
    let x = try a.to(.f32).toArray(Float.self), y = try b.to(.f32).toArray(Float.self)
    let narrowing: Float = dtype == .bf16 ? 65536 : dtype == .f16 ? 8192 : 1  // 2^(23 - mantissa bits)
    return zip(x, y).map { x, y in
        x == y ? 0 : Double(abs(x - y) / (max(y.magnitude, .leastNormalMagnitude).ulp * narrowing))
    }.max() ?? 0
}
