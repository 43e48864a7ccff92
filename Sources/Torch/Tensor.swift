import CTorch

/// An n-dimensional array held by libtorch. The handle is released as soon as the last Swift
/// reference goes away, so memory follows ARC deterministically.
///
/// Every operation that can fail inside libtorch throws a `TorchError` with libtorch's message.
public final class Tensor: @unchecked Sendable {
    let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { ct_free(handle) }

    // MARK: metadata

    public var rank: Int { Int(ct_dim(handle)) }

    public var shape: [Int] {
        var sizes = [Int64](repeating: 0, count: rank)
        _ = ct_sizes(handle, &sizes)
        return sizes.map(Int.init)
    }

    public var strides: [Int] {
        var s = [Int64](repeating: 0, count: rank)
        _ = ct_strides(handle, &s)
        return s.map(Int.init)
    }

    /// Size of one dimension; negative indices count from the end.
    public func size(_ dim: Int) -> Int { shape[dim < 0 ? rank + dim : dim] }

    public var count: Int { Int(ct_numel(handle)) }

    public var dtype: DType { DType(rawValue: ct_dtype(handle)) ?? .f32 }

    public var device: Device {
        var type: Int32 = 0, index: Int32 = 0
        _ = ct_device(handle, &type, &index)
        return Device(type: type, index: index)
    }

    public var isContiguous: Bool { ct_is_contiguous(handle) != 0 }

    // MARK: creation

    /// A CPU tensor holding a copy of `values` laid out row-major in `shape`.
    public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        guard shape.reduce(1, *) == values.count else {
            throw TorchError("Tensor(values:shape:): \(values.count) values do not fill shape \(shape)")
        }
        HostTransfers.current?.fromHost += 1
        let dims = shape.map(Int64.init)
        let handle = values.withUnsafeBytes { buf in
            ct_from_data(buf.baseAddress, dims, Int64(dims.count), T.dtype.rawValue)
        }
        guard let handle else { throw TorchError.last }
        self.init(handle: handle)
    }

    /// A 0-dimensional tensor.
    public convenience init<T: TensorScalar>(scalar: T) throws {
        try self.init([scalar], shape: [])
    }

    /// Wraps raw bytes without copying; `owner` is retained until libtorch frees the tensor.
    /// Used for memory-mapped safetensors.
    public static func borrowing(_ pointer: UnsafeRawPointer, shape: [Int], dtype: DType, owner: AnyObject) throws -> Tensor {
        let dims = shape.map(Int64.init)
        let context = Unmanaged.passRetained(owner).toOpaque()
        let handle = ct_from_blob(UnsafeMutableRawPointer(mutating: pointer), dims, Int64(dims.count), dtype.rawValue,
                                  { ctx in Unmanaged<AnyObject>.fromOpaque(ctx!).release() }, context)
        guard let handle else {
            Unmanaged<AnyObject>.fromOpaque(context).release()
            throw TorchError.last
        }
        return Tensor(handle: handle)
    }

    public static func zeros(_ shape: [Int], dtype: DType = .f32, device: Device = .cpu) throws -> Tensor {
        try full(shape, 0, dtype: dtype, device: device)
    }

    public static func ones(_ shape: [Int], dtype: DType = .f32, device: Device = .cpu) throws -> Tensor {
        try full(shape, 1, dtype: dtype, device: device)
    }

    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .f32, device: Device = .cpu) throws -> Tensor {
        let d = device.code, dims = shape.map(Int64.init)
        return try wrap(ct_full(dims, Int64(dims.count), value, dtype.rawValue, d.type, d.index))
    }

    public static func empty(_ shape: [Int], dtype: DType = .f32, device: Device = .cpu) throws -> Tensor {
        let d = device.code, dims = shape.map(Int64.init)
        return try wrap(ct_empty(dims, Int64(dims.count), dtype.rawValue, d.type, d.index))
    }

    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .i64,
                              device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try wrap(ct_arange(start, end, step, dtype.rawValue, d.type, d.index))
    }

    public static func arange(_ end: Int, dtype: DType = .i64, device: Device = .cpu) throws -> Tensor {
        try arange(0, Double(end), dtype: dtype, device: device)
    }

    /// Uniform in [0, 1), drawn from libtorch's default generator (see `Runtime.manualSeed`).
    public static func rand(_ shape: [Int], dtype: DType = .f32, device: Device = .cpu) throws -> Tensor {
        let d = device.code, dims = shape.map(Int64.init)
        return try wrap(ct_rand(dims, Int64(dims.count), dtype.rawValue, d.type, d.index))
    }

    public static func randn(_ shape: [Int], dtype: DType = .f32, device: Device = .cpu) throws -> Tensor {
        let d = device.code, dims = shape.map(Int64.init)
        return try wrap(ct_randn(dims, Int64(dims.count), dtype.rawValue, d.type, d.index))
    }

    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .i64,
                               device: Device = .cpu) throws -> Tensor {
        let d = device.code, dims = shape.map(Int64.init)
        return try wrap(ct_randint(Int64(low), Int64(high), dims, Int64(dims.count), dtype.rawValue, d.type, d.index))
    }

    // MARK: reading values

    /// All elements, converted to `T`, in row-major order.
    public func toArray<T: TensorScalar>(_: T.Type = T.self) throws -> [T] {
        HostTransfers.current?.reads += 1
        let source = dtype == T.dtype ? self : try to(T.dtype)
        let n = count
        return try [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            try check(ct_copy_out(source.handle, buffer.baseAddress, Int64(n * T.dtype.byteSize)))
            initialized = n
        }
    }

    /// The raw bytes of the contiguous CPU copy of this tensor.
    public func bytes() throws -> [UInt8] {
        HostTransfers.current?.reads += 1
        let n = count * dtype.byteSize
        return try [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            try check(ct_copy_out(handle, buffer.baseAddress, Int64(n)))
            initialized = n
        }
    }

    /// The value of a one-element tensor.
    public func item() throws -> Double {
        HostTransfers.current?.reads += 1
        var v = 0.0
        try check(ct_item(handle, &v))
        return v
    }

    public func itemInt() throws -> Int {
        HostTransfers.current?.reads += 1
        var v: Int64 = 0
        try check(ct_item_int(handle, &v))
        return Int(v)
    }

    // MARK: conversion

    public func to(_ dtype: DType) throws -> Tensor {
        let d = device.code
        return try wrap(ct_to(handle, dtype.rawValue, d.type, d.index, 0))
    }

    public func to(_ device: Device, dtype: DType? = nil) throws -> Tensor {
        let d = device.code
        return try wrap(ct_to(handle, (dtype ?? self.dtype).rawValue, d.type, d.index, 0))
    }

    public func contiguous() throws -> Tensor { try wrap(ct_contiguous(handle)) }
    public func clone() throws -> Tensor { try wrap(ct_clone(handle)) }
    /// A tensor sharing storage but cut from the autograd graph.
    public func detach() throws -> Tensor { try wrap(ct_detach(handle)) }
    /// Another Swift handle to the very same tensor (same storage, same autograd identity).
    public func alias() -> Tensor { Tensor(handle: ct_shallow_clone(handle)) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        var text = "Tensor(shape: \(shape), dtype: \(dtype), device: \(device)"
        if count <= 16, let values = try? toArray(Double.self) { text += ", values: \(values)" }
        return text + ")"
    }
}
