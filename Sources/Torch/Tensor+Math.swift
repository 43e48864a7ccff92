import CTorch

/// Elementwise arithmetic, comparisons and unary functions (broadcasting as in torch).
extension Tensor {
    func binary(_ op: Int, _ other: Tensor) throws -> Tensor {
        try wrap(ct_binary(Int32(op), handle, other.handle))
    }

    func binary(_ op: Int, _ other: Double) throws -> Tensor {
        try wrap(ct_binary_scalar(Int32(op), handle, other))
    }

    func unary(_ op: Int) throws -> Tensor { try wrap(ct_unary(Int32(op), handle)) }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(Int(CT_ADD), b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(Int(CT_SUB), b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(Int(CT_MUL), b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(Int(CT_DIV), b) }
    public static func + (a: Tensor, b: Double) throws -> Tensor { try a.binary(Int(CT_ADD), b) }
    public static func - (a: Tensor, b: Double) throws -> Tensor { try a.binary(Int(CT_SUB), b) }
    public static func * (a: Tensor, b: Double) throws -> Tensor { try a.binary(Int(CT_MUL), b) }
    public static func / (a: Tensor, b: Double) throws -> Tensor { try a.binary(Int(CT_DIV), b) }
    public static func + (a: Double, b: Tensor) throws -> Tensor { try b.binary(Int(CT_ADD), a) }
    public static func * (a: Double, b: Tensor) throws -> Tensor { try b.binary(Int(CT_MUL), a) }
    public static func - (a: Double, b: Tensor) throws -> Tensor { try wrap(ct_rsub_scalar(b.handle, a)) }
    public static func / (a: Double, b: Tensor) throws -> Tensor { try wrap(ct_rdiv_scalar(b.handle, a)) }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.unary(Int(CT_NEG)) }

    public func pow(_ exponent: Tensor) throws -> Tensor { try binary(Int(CT_POW), exponent) }
    public func pow(_ exponent: Double) throws -> Tensor { try binary(Int(CT_POW), exponent) }
    /// `base ** self`.
    public func rpow(_ base: Double) throws -> Tensor { try wrap(ct_rpow_scalar(handle, base)) }
    public func maximum(_ other: Tensor) throws -> Tensor { try binary(Int(CT_MAXIMUM), other) }
    public func minimum(_ other: Tensor) throws -> Tensor { try binary(Int(CT_MINIMUM), other) }
    public func remainder(_ other: Double) throws -> Tensor { try binary(Int(CT_REMAINDER), other) }
    public func floorDivide(_ other: Double) throws -> Tensor { try binary(Int(CT_FLOOR_DIVIDE), other) }
    public func atan2(_ other: Tensor) throws -> Tensor { try binary(Int(CT_ATAN2), other) }

    public func eq(_ other: Tensor) throws -> Tensor { try binary(Int(CT_EQ), other) }
    public func ne(_ other: Tensor) throws -> Tensor { try binary(Int(CT_NE), other) }
    public func lt(_ other: Tensor) throws -> Tensor { try binary(Int(CT_LT), other) }
    public func le(_ other: Tensor) throws -> Tensor { try binary(Int(CT_LE), other) }
    public func gt(_ other: Tensor) throws -> Tensor { try binary(Int(CT_GT), other) }
    public func ge(_ other: Tensor) throws -> Tensor { try binary(Int(CT_GE), other) }
    public func eq(_ other: Double) throws -> Tensor { try binary(Int(CT_EQ), other) }
    public func ne(_ other: Double) throws -> Tensor { try binary(Int(CT_NE), other) }
    public func lt(_ other: Double) throws -> Tensor { try binary(Int(CT_LT), other) }
    public func le(_ other: Double) throws -> Tensor { try binary(Int(CT_LE), other) }
    public func gt(_ other: Double) throws -> Tensor { try binary(Int(CT_GT), other) }
    public func ge(_ other: Double) throws -> Tensor { try binary(Int(CT_GE), other) }
    public func logicalAnd(_ other: Tensor) throws -> Tensor { try binary(Int(CT_LOGICAL_AND), other) }
    public func logicalOr(_ other: Tensor) throws -> Tensor { try binary(Int(CT_LOGICAL_OR), other) }
    public func logicalNot() throws -> Tensor { try unary(Int(CT_LOGICAL_NOT)) }

    public func exp() throws -> Tensor { try unary(Int(CT_EXP)) }
    public func log() throws -> Tensor { try unary(Int(CT_LOG)) }
    public func log1p() throws -> Tensor { try unary(Int(CT_LOG1P)) }
    public func expm1() throws -> Tensor { try unary(Int(CT_EXPM1)) }
    public func sqrt() throws -> Tensor { try unary(Int(CT_SQRT)) }
    public func rsqrt() throws -> Tensor { try unary(Int(CT_RSQRT)) }
    public func abs() throws -> Tensor { try unary(Int(CT_ABS)) }
    public func sin() throws -> Tensor { try unary(Int(CT_SIN)) }
    public func cos() throws -> Tensor { try unary(Int(CT_COS)) }
    public func tanh() throws -> Tensor { try unary(Int(CT_TANH)) }
    public func sigmoid() throws -> Tensor { try unary(Int(CT_SIGMOID)) }
    public func relu() throws -> Tensor { try unary(Int(CT_RELU)) }
    public func silu() throws -> Tensor { try unary(Int(CT_SILU)) }
    /// Exact (erf) GELU; `approximate: true` is the tanh form.
    public func gelu(approximate: Bool = false) throws -> Tensor { try unary(Int(approximate ? CT_GELU_TANH : CT_GELU)) }
    public func elu(alpha: Double = 1) throws -> Tensor { try wrap(ct_elu(handle, alpha)) }
    public func floor() throws -> Tensor { try unary(Int(CT_FLOOR)) }
    public func ceil() throws -> Tensor { try unary(Int(CT_CEIL)) }
    public func round() throws -> Tensor { try unary(Int(CT_ROUND)) }
    public func sign() throws -> Tensor { try unary(Int(CT_SIGN)) }
    public func square() throws -> Tensor { try unary(Int(CT_SQUARE)) }
    public func reciprocal() throws -> Tensor { try unary(Int(CT_RECIPROCAL)) }
    public func erf() throws -> Tensor { try unary(Int(CT_ERF)) }
    public func isNaN() throws -> Tensor { try unary(Int(CT_ISNAN)) }
    public func isFinite() throws -> Tensor { try unary(Int(CT_ISFINITE)) }

    public func clamp(min: Double? = nil, max: Double? = nil) throws -> Tensor {
        try wrap(ct_clamp(handle, min ?? 0, max ?? 0, min == nil ? 0 : 1, max == nil ? 0 : 1))
    }

    /// `condition ? a : b`, elementwise.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try wrap(ct_where(condition.handle, a.handle, b.handle))
    }

    public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
        try wrap(ct_masked_fill(handle, mask.handle, value))
    }

    public func lerp(_ end: Tensor, _ weight: Double) throws -> Tensor {
        try wrap(ct_lerp(handle, end.handle, weight))
    }
}
