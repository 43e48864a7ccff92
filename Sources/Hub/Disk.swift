import Foundation

/// File-system calls that turn failures into `HubError.disk` naming the path, so a full disk or a read-only cache
/// reads as such instead of as a Foundation error code.
enum Disk {
    static func createDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw HubError.disk(path: url.path, reason: reason(error))
        }
    }

    static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url) } catch { throw HubError.disk(path: url.path, reason: reason(error)) }
    }

    /// `rename(2)`: atomic within one file system, replaces the destination.
    static func rename(_ source: URL, to destination: URL) throws {
        guard Foundation.rename(source.path, destination.path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(source.path)
            throw HubError.disk(path: destination.path, reason: message)
        }
    }

    static func size(_ url: URL) -> Int64? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        return nsError.localizedDescription
    }
}
