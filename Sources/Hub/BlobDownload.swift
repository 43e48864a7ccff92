import ConsoleProgress
import Crypto
import Foundation

extension HubClient {
    /// Makes `blobs/<etag>` hold the file's bytes. They go to `blobs/<etag>.incomplete` first (kept across runs and
    /// resumed with `Range:` from its size), are checked against the announced size and, when the etag is a sha256
    /// (LFS files), against it, flushed, and only then renamed to their final name: a blob under its etag is always
    /// whole. The per-etag lock keeps two processes from appending to the same `.incomplete` file.
    func fetchBlob(_ repo: RepoID, file: String, metadata: FileMetadata) throws {
        let blob = cache.blob(repo, etag: metadata.etag)
        if FileManager.default.fileExists(atPath: blob.path) { return }
        try Disk.createDirectory(blob.deletingLastPathComponent())
        let lock = try FileLock(cache.lockFile(repo, etag: metadata.etag))
        defer { lock.release() }
        if FileManager.default.fileExists(atPath: blob.path) { return }  // another process finished it meanwhile

        let incomplete = cache.incompleteBlob(repo, etag: metadata.etag)
        let output = try PartialFile(incomplete, hashing: metadata.sha256 != nil)
        defer { output.close() }
        if let size = metadata.size { warnIfShortOfSpace(needed: size - output.size, in: incomplete) }
        try download(metadata.location, into: output, expectedSize: metadata.size, repo: repo, file: file)
        if let expected = metadata.sha256, let received = output.sha256(), received != expected {
            // Resuming these bytes would only rebuild the same wrong file: drop them.
            output.close()
            try? FileManager.default.removeItem(at: incomplete)
            throw HubError.checksumMismatch(file: "\(repo.id)/\(file)", expected: expected, received: received)
        }
        try output.flush()
        try Disk.rename(incomplete, to: blob)
    }

    /// Streams `url` into `output` from its current size; a dropped connection is resumed, each time asking only for
    /// the missing bytes, until `maxResumes` attempts in a row bring nothing (huggingface_hub's `http_get` retries).
    private func download(
        _ url: URL, into output: PartialFile, expectedSize: Int64?, repo: RepoID, file: String
    ) throws {
        let label = "\(repo.id)/\(file)"
        var expected = expectedSize
        if let expected, output.size > expected { try output.truncate() }  // not this file's bytes: start over
        let progress = DownloadProgress(label: label, total: expected, done: output.size, style: configuration.progress)
        var resumes = 0
        while true {
            if let expected, output.size == expected { break }
            let offset = output.size
            var request = headers(for: url)
            if offset > 0 { request["Range"] = "bytes=\(offset)-" }
            do {
                let timeout = configuration.downloadTimeout
                let response = try http.get(url, headers: request, timeout: timeout, start: { answer in
                    try self.accept(answer, offset: offset, output: output, repo: repo, file: file)
                    if expected == nil { expected = answer.fullLength }
                    progress.restart(at: output.size, total: expected)
                }, body: { chunk in
                    try output.append(chunk)
                    progress.advance(chunk.count)
                })
                if expected == nil { expected = response.fullLength ?? output.size }
                if let expected, output.size > expected {
                    throw HubError.sizeMismatch(file: label, expected: expected, received: output.size)
                }
                if let expected, output.size < expected {
                    throw TransportError(url: url, reason: "connection closed after \(output.size) of \(expected) bytes")
                }
            } catch let error as TransportError {
                // As huggingface_hub: the count restarts whenever bytes arrived, so a long download on a flaky line
                // keeps going while a dead one stops.
                resumes = output.size > offset ? 1 : resumes + 1
                guard resumes <= configuration.maxResumes else {
                    throw HubError.network(url: url.absoluteString,
                                           reason: "\(error.reason) (gave up after \(resumes - 1) resumes without "
                                               + "progress; run again to continue from "
                                               + "\(ProgressBar.bytes(output.size)))",
                                           cache: configuration.cacheDirectory.path)
                }
                Thread.sleep(forTimeInterval: configuration.retryDelay)
            }
        }
        progress.finish()
    }

    /// Warns (does not fail: some file systems misreport free space) when the download will not fit, as
    /// huggingface_hub's `_check_disk_space` does.
    private func warnIfShortOfSpace(needed: Int64, in file: URL) {
        var info = statvfs()
        guard needed > 0, statvfs(file.deletingLastPathComponent().path, &info) == 0 else { return }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        guard free < needed else { return }
        FileHandle.standardError.write(Data(("warning: \(file.lastPathComponent) needs \(ProgressBar.bytes(needed)) "
            + "but \(file.deletingLastPathComponent().path) has \(ProgressBar.bytes(free)) free\n").utf8))
    }

    /// Checks a download answer before its body is written: a 206 must continue exactly where the file stops; a 200
    /// to a ranged request means the server ignored the range, so the partial bytes are dropped.
    private func accept(
        _ answer: HTTPResponse, offset: Int64, output: PartialFile, repo: RepoID, file: String
    ) throws {
        switch answer.status {
        case 206:
            guard answer.rangeStart == offset else {
                throw HubError.httpStatus(url: answer.url.absoluteString, status: 206,
                                          message: "Content-Range '\(answer["Content-Range"] ?? "")' does not start "
                                              + "at byte \(offset)")
            }
        case 200:
            if offset > 0 { try output.truncate() }
        case let status where HTTPResponse.isTransient(status):
            throw TransportError(url: answer.url, reason: "HTTP \(status)")
        case 416:
            // The stored part is not a prefix of this file (e.g. longer): restart from zero on the next round.
            try output.truncate()
            throw TransportError(url: answer.url, reason: "range not satisfiable, restarting")
        default:
            try check(answer, repo: repo, revision: repo.revision, file: file)
            throw HubError.httpStatus(url: answer.url.absoluteString, status: answer.status, message: nil)
        }
    }
}

extension HTTPResponse {
    /// The whole file's length: the total of `Content-Range: bytes a-b/total`, else `Content-Length`.
    var fullLength: Int64? {
        if let range = self["Content-Range"], let total = range.split(separator: "/").last { return Int64(total) }
        return self["Content-Length"].flatMap { Int64($0) }
    }

    /// `a` of `Content-Range: bytes a-b/total`.
    var rangeStart: Int64? {
        guard let range = self["Content-Range"], range.hasPrefix("bytes ") else { return nil }
        return range.dropFirst(6).split(separator: "-").first.flatMap { Int64($0) }
    }
}

/// An append-only file descriptor on a `.incomplete` blob; errors name the file (a full disk reads as such).
/// `hashing`: the SHA-256 of its bytes is kept up to date as they are appended, so checking a download costs no
/// second pass over it (only bytes from an earlier run are read back, once).
final class PartialFile {
    private let url: URL
    private var descriptor: Int32
    private(set) var size: Int64
    private var hasher: SHA256?

    init(_ url: URL, hashing: Bool = false) throws {
        self.url = url
        descriptor = open(url.path, O_RDWR | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw HubError.disk(path: url.path, reason: String(cString: strerror(errno))) }
        size = Int64(lseek(descriptor, 0, SEEK_END))
        if hashing { try hashStoredBytes() }
    }

    /// The digest of the bytes so far, as 64 lowercase hex digits; nil when not hashing.
    func sha256() -> String? {
        hasher.map { $0.finalize().map { String(format: "%02x", $0) }.joined() }
    }

    private func hashStoredBytes() throws {
        hasher = SHA256()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while offset < size {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, off_t(offset)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                throw HubError.disk(path: url.path, reason: count == 0 ? "ended early" : String(cString: strerror(errno)))
            }
            chunk.withUnsafeBytes { hasher!.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += Int64(count)
        }
    }

    func append(_ data: Data) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var written = 0
            while written < buffer.count {
                let count = Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw HubError.disk(path: url.path, reason: String(cString: strerror(errno)))
                }
                written += count
            }
            hasher?.update(bufferPointer: buffer)
        }
        size += Int64(data.count)
    }

    func truncate() throws {
        guard ftruncate(descriptor, 0) == 0 else {
            throw HubError.disk(path: url.path, reason: String(cString: strerror(errno)))
        }
        size = 0
        if hasher != nil { hasher = SHA256() }
    }

    /// Makes the bytes durable before the rename publishes them under the final name.
    func flush() throws {
        guard fsync(descriptor) == 0 else {
            throw HubError.disk(path: url.path, reason: String(cString: strerror(errno)))
        }
    }

    func close() {
        guard descriptor >= 0 else { return }
        Foundation.close(descriptor)
        descriptor = -1
    }

    deinit { close() }
}
