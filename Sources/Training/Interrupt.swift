import Foundation

/// Turns Ctrl-C (SIGINT) and SIGTERM into a flag the training loop polls between steps, so it can
/// save a checkpoint and exit cleanly. A second Ctrl-C exits after the quick `onQuit` work (sending
/// buffered W&B rows), a third at once.
public final class Interrupt: @unchecked Sendable {
    public static let shared = Interrupt()
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0
    private var quitActions: [Int: () -> Void] = [:]
    private var nextToken = 0

    public var requested: Bool { lock.withLock { count > 0 } }

    /// Asks for a stop as Ctrl-C would (tests, or a supervisor in-process); `clear` withdraws it.
    public func request() { lock.withLock { count = max(count, 1) } }
    public func clear() { lock.withLock { count = 0 } }

    /// Runs `action` before a second Ctrl-C exits (it must bound its own wait); the token is for `removeOnQuit`.
    public func onQuit(_ action: @escaping () -> Void) -> Int {
        lock.withLock {
            nextToken += 1
            quitActions[nextToken] = action
            return nextToken
        }
    }

    public func removeOnQuit(_ token: Int) { _ = lock.withLock { quitActions.removeValue(forKey: token) } }

    public func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let n = self.lock.withLock { self.count += 1; return self.count }
                if n == 1 {
                    FileHandle.standardError.write(Data("\n[train] interrupt: saving a checkpoint after this step (Ctrl-C again to quit now)\n".utf8))
                } else if n == 2 {
                    // Elsewhere than this handler, so that a third Ctrl-C still gets through and quits at once.
                    let actions = self.lock.withLock { Array(self.quitActions.values) }
                    DispatchQueue.global().async {
                        for action in actions { action() }
                        exit(130)
                    }
                } else {
                    exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
