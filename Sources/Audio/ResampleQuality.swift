import CAudio

/// libsoxr's quality recipes, named as the Python `soxr` package names them (QQ, LQ, MQ, HQ, VHQ).
public enum ResampleQuality: String, Sendable, CaseIterable {
    /// Cubic interpolation.
    case quick
    /// 16-bit, large roll-off.
    case low
    /// 16-bit, medium roll-off.
    case medium
    /// 20-bit precision; the Python package's default, and ours.
    case high
    /// 28-bit precision (double-precision filters); a little slower than `.high`.
    case veryHigh

    var recipe: UInt {
        switch self {
        case .quick: return UInt(SOXR_QQ)
        case .low: return UInt(SOXR_LQ)
        case .medium: return UInt(SOXR_MQ)
        case .high: return UInt(SOXR_20_BITQ)
        case .veryHigh: return UInt(SOXR_28_BITQ)
        }
    }
}
