import Foundation

/// An exclusive advisory lock on a file (`flock(2)`), held from `init` until `release()`; the same lock file
/// huggingface_hub takes, so two processes never download the same blob into one `.incomplete` file at once.
final class FileLock {
    private var descriptor: Int32

    init(_ url: URL) throws {
        try Disk.createDirectory(url.deletingLastPathComponent())
        descriptor = open(url.path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw HubError.disk(path: url.path, reason: String(cString: strerror(errno))) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw HubError.disk(path: url.path, reason: "cannot lock: \(reason)")
            }
        }
    }

    func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
