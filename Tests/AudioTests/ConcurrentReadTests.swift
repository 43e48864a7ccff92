import Audio
import Foundation
import Testing

/// Files read on several threads at once (the preprocessor, `csm serve`'s voices): a failed open must not close a
/// descriptor twice. libsndfile 1.2.0 closes the descriptor of a failed `sf_open_fd` even when told not to; closing it
/// again ourselves closed whatever another thread had just opened under the same number.
@Suite struct ConcurrentReadTests {
    @Test func failedOpensNeverCloseAnotherThreadsFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("concurrent-read-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("notes.wav"), other = folder.appendingPathComponent("other.bin")
        try Data(String(repeating: "not audio at all\n", count: 64).utf8).write(to: text)
        try Data(count: 4096).write(to: other)

        let lock = NSLock()
        nonisolated(unsafe) var problems: [String] = []  // behind `lock`
        func record(_ what: String) { lock.withLock { problems.append(what) } }
        let group = DispatchGroup()
        for worker in 0..<4 {
            group.enter()
            Thread {
                defer { group.leave() }
                for _ in 0..<300 {
                    if worker == 0 {
                        // A descriptor of this thread's own: it must stay open until this thread closes it.
                        let fd = open(other.path, O_RDONLY | O_CLOEXEC)
                        var status = stat(), buffer = [UInt8](repeating: 0, count: 16)
                        if fd < 0 || fstat(fd, &status) != 0 || pread(fd, &buffer, 16, 0) != 16 {
                            record("own descriptor \(fd) failed: \(String(cString: strerror(errno)))")
                        }
                        if fd >= 0 { close(fd) }
                    } else {
                        do {
                            _ = try AudioFile.read(text)
                            record("\(text.lastPathComponent) was read as audio")
                        } catch {
                            let message = "\(error)"
                            if !message.contains("not an audio file") { record(message) }
                        }
                    }
                }
            }.start()
        }
        group.wait()
        #expect(problems.isEmpty, "\(problems.count) problems, first: \(problems.first ?? "")")
    }
}
