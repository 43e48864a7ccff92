import Foundation

/// `csm train --nproc N`: torchrun for one machine. Starts N copies of this command with
/// torchrun's variables (rank 0 serves the rendezvous on a free loopback port), splits the CPU
/// cores between them unless `OMP_NUM_THREADS` says otherwise, and waits. When one copy fails,
/// the others are stopped and the launcher exits with the failed rank's status.
///
/// The workers run in process groups of their own (Foundation's `Process` does that), so the
/// launcher passes each Ctrl-C (SIGINT) and SIGTERM on to them: the first makes them save a
/// checkpoint and stop after the step, a second Ctrl-C stops them at once.
public struct LocalLauncher {
    public var processes: Int
    /// The worker's command line: this executable and its arguments without `--nproc`.
    public var executable: URL
    public var arguments: [String]
    public var log: (String) -> Void

    public init(processes: Int, executable: URL, arguments: [String],
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.processes = processes
        self.executable = executable
        self.arguments = arguments
        self.log = log
    }

    /// Runs the workers to the end and returns the exit status for the launcher.
    public func run() throws -> Int32 {
        let port = try ProcessInfo.processInfo.environment["MASTER_PORT"].flatMap(Int.init) ?? Self.freePort()
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / processes)
        log("[launch] \(processes) processes on 127.0.0.1:\(port), \(threads) CPU thread(s) each")

        let exited = DispatchSemaphore(value: 0)
        var workers: [Process] = []
        for rank in 0 ..< processes {
            let env = DistributedEnvironment(rank: rank, worldSize: processes, localRank: rank,
                                             masterAddr: "127.0.0.1", masterPort: port)
            let p = Process()
            p.executableURL = executable
            p.arguments = arguments
            var variables = ProcessInfo.processInfo.environment.merging(env.variables) { $1 }
            if variables["OMP_NUM_THREADS"] == nil { variables["OMP_NUM_THREADS"] = "\(threads)" }
            p.environment = variables
            p.terminationHandler = { _ in exited.signal() }
            try p.run()
            workers.append(p)
        }
        let forwarders = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { for p in workers where p.isRunning { kill(p.processIdentifier, sig) } }
            source.resume()
            return source
        }
        defer { forwarders.forEach { $0.cancel() } }

        // Wait for each exit; the first failure stops the rest (an interrupted worker's 130 is
        // not a failure: its peers are saving and stopping at the same step).
        var status: Int32 = 0
        for _ in workers {
            exited.wait()
            for (rank, p) in workers.enumerated() where !p.isRunning && status == 0 {
                let code = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
                guard code != 0 else { continue }
                if code == 130 { status = 130; continue }
                status = code
                let how = p.terminationReason == .uncaughtSignal ? "was killed by signal \(p.terminationStatus)"
                    : "exited with status \(p.terminationStatus)"
                log("[launch] rank \(rank) \(how); stopping the other ranks")
                stop(workers.filter(\.isRunning))
            }
        }
        return status
    }

    /// SIGTERM, then SIGKILL for any still running after 30 s.
    func stop(_ running: [Process]) {
        for p in running { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(30)
        while running.contains(where: \.isRunning), Date() < deadline { usleep(100_000) }
        for p in running where p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }

    /// The command line minus `--nproc N` / `--nproc=N`.
    public static func withoutNproc(_ args: [String]) -> [String] {
        var out: [String] = [], skip = false
        for arg in args {
            if skip { skip = false; continue }
            if arg == "--nproc" { skip = true; continue }
            if arg.hasPrefix("--nproc=") { continue }
            out.append(arg)
        }
        return out
    }

    /// A TCP port nobody listens on right now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ConfigError("--nproc: cannot open a socket to find a free port") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw ConfigError("--nproc: cannot find a free port; set MASTER_PORT") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
