import CTorch

/// Element types a tensor can hold. Raw values are the shim's codes.
public enum DType: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case f32 = 0, f16 = 1, bf16 = 2, i64 = 3, i32 = 4, i16 = 5, u8 = 6, bool = 7, f64 = 8, i8 = 9

    public var isFloatingPoint: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f64 }

    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .u8, .i8, .bool: return 1
        }
    }

    /// Names as safetensors and `config.json` spell them ("F32", "bfloat16", "float32", ...).
    public init?(name: String) {
        switch name.lowercased() {
        case "f32", "float32", "float": self = .f32
        case "f16", "float16", "half": self = .f16
        case "bf16", "bfloat16": self = .bf16
        case "i64", "int64", "long": self = .i64
        case "i32", "int32", "int": self = .i32
        case "i16", "int16": self = .i16
        case "u8", "uint8": self = .u8
        case "bool": self = .bool
        case "f64", "float64", "double": self = .f64
        case "i8", "int8": self = .i8
        default: return nil
        }
    }

    /// The safetensors header spelling.
    public var safetensorsName: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .i64: return "I64"
        case .i32: return "I32"
        case .i16: return "I16"
        case .u8: return "U8"
        case .bool: return "BOOL"
        case .f64: return "F64"
        case .i8: return "I8"
        }
    }

    public var description: String {
        switch self {
        case .f32: return "float32"
        case .f16: return "float16"
        case .bf16: return "bfloat16"
        case .i64: return "int64"
        case .i32: return "int32"
        case .i16: return "int16"
        case .u8: return "uint8"
        case .bool: return "bool"
        case .f64: return "float64"
        case .i8: return "int8"
        }
    }
}

/// Swift element types that map one-to-one onto a tensor dtype.
public protocol TensorScalar: Sendable {
    static var dtype: DType { get }
}
extension Float: TensorScalar { public static var dtype: DType { .f32 } }
extension Double: TensorScalar { public static var dtype: DType { .f64 } }
extension Int64: TensorScalar { public static var dtype: DType { .i64 } }
extension Int: TensorScalar { public static var dtype: DType { .i64 } }  // 64-bit on every supported platform
extension Int32: TensorScalar { public static var dtype: DType { .i32 } }
extension Int16: TensorScalar { public static var dtype: DType { .i16 } }
extension UInt8: TensorScalar { public static var dtype: DType { .u8 } }
extension Int8: TensorScalar { public static var dtype: DType { .i8 } }
extension Bool: TensorScalar { public static var dtype: DType { .bool } }
#if !(os(macOS) && arch(x86_64))
extension Float16: TensorScalar { public static var dtype: DType { .f16 } }
#endif
