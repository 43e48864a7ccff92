/// Counts, on the current thread and inside `HostTransfers.counting`, the moments a computation crosses between
/// the host and its tensors' device: every read of values back to Swift (`toArray`, `bytes`, `item`, `itemInt`:
/// each waits until the device has computed them, a sync on CUDA) and every tensor built from Swift values
/// (`Tensor([…])`: host data that becomes an upload, itself a sync on CUDA, once it moves to a device). Outside a
/// `counting` block nothing is counted. Generation's tests use it to show that sampling stays on the device.
public final class HostTransfers: @unchecked Sendable {
    /// Values read back to the host.
    public internal(set) var reads = 0
    /// Tensors made from Swift values.
    public internal(set) var fromHost = 0

    @TaskLocal static var current: HostTransfers?

    /// Runs `body` and returns its result with what it transferred (nested blocks count only their own).
    public static func counting<R>(_ body: () throws -> R) rethrows -> (R, HostTransfers) {
        let counter = HostTransfers()
        let result = try $current.withValue(counter) { try body() }
        return (result, counter)
    }
}
