import Foundation
import Torch

/// A watchdog that makes a failed rank stop the whole run quickly.
///
/// Every rank bumps its counter `csm/heartbeat/<rank>` in the rendezvous store once per
/// `interval` and watches the others' counters. When one has not moved for `deadAfter` seconds
/// (the process was killed, crashed or lost its machine) and that rank did not finish normally,
/// this process prints which rank failed and exits at once, whatever its main thread is doing: a
/// collective would otherwise wait for the dead peer up to `--ddp_timeout`. When the store itself
/// stops answering, rank 0, which serves it, is the one that failed.
///
/// Exiting from here is safe for the files: checkpoints appear by an atomic rename, so the last
/// one stays complete.
final class Heartbeat: @unchecked Sendable {
    let store: TCPStore
    let rank: Int
    let worldSize: Int
    let interval: Double
    let deadAfter: Double
    let rendezvous: String
    /// Called with the verdict; the default prints it and exits with status 1.
    let onFailure: @Sendable (String) -> Void

    private let lock = NSLock()
    private var stopped = false
    private var verdictText: String?

    /// The failure seen so far, if any.
    var verdict: String? { lock.withLock { verdictText } }

    init(store: TCPStore, rank: Int, worldSize: Int, rendezvous: String, interval: Double = 1, deadAfter: Double = 10,
         onFailure: @escaping @Sendable (String) -> Void = Heartbeat.exitWithMessage) {
        self.store = store
        self.rank = rank
        self.worldSize = worldSize
        self.rendezvous = rendezvous
        self.interval = interval
        self.deadAfter = deadAfter
        self.onFailure = onFailure
    }

    @Sendable static func exitWithMessage(_ message: String) {
        FileHandle.standardError.write(Data("\n[dist] \(message); stopping this rank\n".utf8))
        _exit(1)  // not exit(): the main thread may be inside libtorch
    }

    func start() {
        let thread = Thread { [self] in watch() }
        thread.name = "csm heartbeat"
        thread.start()
    }

    /// Stops watching. `finished` tells the peers this rank ended normally, so they do not take its
    /// silence for a failure; a rank that stops on an error lets them notice and name it.
    func stop(finished: Bool) {
        lock.withLock { stopped = true }
        if finished { _ = try? store.add(Self.finishedKey(rank), 1) }
    }

    static func beatKey(_ rank: Int) -> String { "csm/heartbeat/\(rank)" }
    static func finishedKey(_ rank: Int) -> String { "csm/finished/\(rank)" }

    private func watch() {
        var lastCount = [Int](repeating: -1, count: worldSize)
        var lastChange = [Date](repeating: Date(), count: worldSize)
        var storeFailures = 0
        while !lock.withLock({ stopped }) {
            do {
                try store.add(Self.beatKey(rank), 1)
                for peer in 0 ..< worldSize where peer != rank {
                    let count = try store.add(Self.beatKey(peer), 0)
                    if count != lastCount[peer] {
                        lastCount[peer] = count
                        lastChange[peer] = Date()
                    } else if Date().timeIntervalSince(lastChange[peer]) > deadAfter,
                              try store.add(Self.finishedKey(peer), 0) == 0 {
                        fail("rank \(peer) stopped responding (no heartbeat for \(Int(deadAfter)) s): "
                            + "it died, was killed or lost its connection")
                        return
                    }
                }
                storeFailures = 0
            } catch {
                storeFailures += 1
                if storeFailures >= 3, !lock.withLock({ stopped }) {
                    fail("rank 0 stopped responding: the rendezvous store it serves at \(rendezvous) is unreachable "
                        + "(\(error)); it died, was killed or its machine went down")
                    return
                }
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    private func fail(_ message: String) {
        let message = "rank \(rank): \(message)"
        lock.withLock { verdictText = message }
        onFailure(message)
    }
}
