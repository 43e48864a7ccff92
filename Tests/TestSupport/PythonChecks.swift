import Foundation

/// The ecosystem's own readers (PEFT, transformers, tensorboard, huggingface_hub) run on our output files: the
/// scripts of tools/checks, in the pinned Python reference stack tools/.venv (`make venv`; `make test` builds it).
/// Suites that use it are enabled only when the venv is there:
/// `.enabled(if: PythonChecks.isAvailable, PythonChecks.missing)`.
public enum PythonChecks {
    public static let repo = repositoryRoot
    public static let python = repo.appendingPathComponent("tools/.venv/bin/python")
    public static let checks = repo.appendingPathComponent("tools/checks")
    /// Why a suite is skipped without it.
    public static let missing = "tools/.venv missing: run make venv"

    /// The interpreter is there and `make venv` finished installing tools/requirements.txt (it writes `.ready`).
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: python.path)
            && FileManager.default.fileExists(atPath: repo.appendingPathComponent("tools/.venv/.ready").path)
    }

    public struct Outcome: Decodable, Sendable {
        /// The check's exit status (0: everything matched).
        public var status: Int
        /// What it printed (its findings, or the reasons it failed).
        public var output: String
        public var seconds: Double = 0

        public init(status: Int, output: String, seconds: Double = 0) {
            self.status = status
            self.output = output
            self.seconds = seconds
        }
    }

    /// Runs `tools/checks/<script>.py arguments` (killed after `timeout` seconds).
    public static func run(_ script: String, _ arguments: [String], timeout: TimeInterval = 300) throws -> Outcome {
        let started = Date()
        let (status, output) = try exec([checks.appendingPathComponent("\(script).py").path] + arguments,
                                        timeout: timeout)
        return Outcome(status: Int(status), output: output, seconds: Date().timeIntervalSince(started))
    }

    /// Runs several checks in one Python process (tools/checks/run_checks.py: torch and transformers are imported
    /// once), each as (name, script, arguments); returns each check's outcome by name. A check missing from the
    /// report (the runner itself failed) comes back with status -1 and the runner's output.
    public static func runAll(_ list: [(name: String, script: String, arguments: [String])],
                              timeout: TimeInterval = 600) throws -> [String: Outcome] {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("checks-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: report) }
        let arguments = list.flatMap { ["--", $0.name, $0.script] + $0.arguments }
        let (status, output) = try exec([checks.appendingPathComponent("run_checks.py").path, "--report", report.path]
                                        + arguments, timeout: timeout)
        let outcomes = (try? JSONDecoder().decode([String: Outcome].self, from: Data(contentsOf: report))) ?? [:]
        var all = [String: Outcome]()
        for check in list {
            all[check.name] = outcomes[check.name]
                ?? Outcome(status: -1, output: "run_checks.py exited with \(status) without reporting '\(check.name)':\n\(output)")
        }
        return all
    }

    /// Runs the venv's python with `arguments` from the repository root; stdout and stderr together.
    static func exec(_ arguments: [String], timeout: TimeInterval) throws -> (Int32, String) {
        let fm = FileManager.default
        let log = fm.temporaryDirectory.appendingPathComponent("python-\(UUID()).log")
        _ = fm.createFile(atPath: log.path, contents: nil)
        defer { try? fm.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)  // a file, not a pipe: a chatty process never blocks
        let p = Process()
        p.executableURL = python
        p.arguments = arguments
        p.currentDirectoryURL = repo
        var env = ProcessInfo.processInfo.environment
        // Offline (the checks read local folders only), quiet and small: one thread for a toy model.
        env["HF_HUB_OFFLINE"] = "1"
        env["HF_HUB_DISABLE_TELEMETRY"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        env["OMP_NUM_THREADS"] = "1"
        env["TOKENIZERS_PARALLELISM"] = "false"
        p.environment = env
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(10_000) }
        let timedOut = p.isRunning
        if timedOut { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        try handle.close()
        var output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if timedOut { output += "\n(killed after \(Int(timeout)) s)" }
        return (timedOut ? -1 : p.terminationStatus, output)
    }
}
