import CTorch

/// c10d's TCPStore: the key-value rendezvous a process group is built on (torchrun's
/// `MASTER_ADDR:MASTER_PORT`). Rank 0 hosts the server inside its process; the others connect.
public final class TCPStore: @unchecked Sendable {
    let handle: OpaquePointer

    /// Connects to (or, with `isServer`, hosts) the store at `host:port`; a server waits up to
    /// `timeout` seconds for all `worldSize` members, a client up to `timeout` to reach it.
    public init(host: String, port: Int, isServer: Bool, worldSize: Int, timeout: Double) throws {
        guard let handle = ct_tcp_store(host, Int32(port), isServer ? 1 : 0, Int32(worldSize), Int64(timeout * 1000))
        else { throw TorchError.last }
        self.handle = handle
    }

    deinit { ct_store_free(handle) }

    /// Adds `delta` to the counter at `key` (created at 0) and returns its new value; 0 reads it.
    @discardableResult
    public func add(_ key: String, _ delta: Int) throws -> Int {
        var value: Int64 = 0
        try check(ct_store_add(handle, key, Int64(delta), &value))
        return Int(value)
    }
}
