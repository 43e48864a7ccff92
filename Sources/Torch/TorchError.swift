import CTorch

/// An error raised inside libtorch (bad shape, out of memory, missing kernel), carrying its message.
public struct TorchError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// The message of the last failed shim call on this thread.
    static var last: TorchError { TorchError(String(cString: ct_last_error())) }
}

/// Wraps a handle returned by the shim, or throws the shim's error when it is NULL.
@inline(__always)
func wrap(_ handle: OpaquePointer?) throws -> Tensor {
    guard let handle else { throw TorchError.last }
    return Tensor(handle: handle)
}

/// Throws the shim's error when a status-returning call failed.
@inline(__always)
func check(_ status: Int32) throws {
    if status != 0 { throw TorchError.last }
}
