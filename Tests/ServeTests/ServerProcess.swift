import Foundation
import Testing
import TestSupport

/// A `csm serve` subprocess on a free loopback port (it binds port 0 and logs the one it got), on the tiny demo
/// model, one libtorch thread; and the other processes the tests run: `csm generate`, curl, the venv's Python.
final class ServerProcess {
    static let model = fixturesFolder.appendingPathComponent("demo-model").path
    static let modelName = "demo-model"
    /// The `csm` binary next to the test bundle in the build folder.
    static let csm = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("csm").path
    static let cpu = ["--device", "cpu", "--threads", "1"]

    let process = Process()
    let log: URL
    private(set) var port = 0
    var url: String { "http://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }

    /// Starts `csm serve --model_id demo-model --port 0 arguments` and waits until it listens.
    init(_ arguments: [String], timeout: TimeInterval = 60) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("csm-serve-\(UUID()).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: Self.csm)
        process.arguments = ["serve", "--model_id", Self.model, "--port", "0"] + Self.cpu + arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, process.isRunning {
            if let line = output.split(separator: "\n").first(where: { $0.contains(" listening on http://") }),
               let port = Int(line.split(separator: ":").last ?? "") {
                self.port = port
                return
            }
            usleep(20_000)
        }
        let why = process.isRunning ? "not listening after \(Int(timeout)) s" : "exited with \(process.terminationStatus)"
        if process.isRunning { process.terminate() }
        throw ServerError("csm serve \(arguments.joined(separator: " ")): \(why):\n\(output)")
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: log)
    }

    /// What the server logged so far (stdout and stderr).
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the exit; returns (exit status, exited normally).
    func stop(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 60) -> (status: Int32, exited: Bool) {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("csm serve still running \(Int(timeout)) s after signal \(signal); killed")
        }
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .exit)
    }
}

struct ServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to its end; stdout as bytes, stderr as text. Files, not pipes: nothing blocks on a full pipe.
@discardableResult
func execute(_ program: String, _ arguments: [String], environment: [String: String] = [:],
             timeout: TimeInterval = 300) throws -> (status: Int32, stdout: Data, stderr: String) {
    let fm = FileManager.default
    let out = fm.temporaryDirectory.appendingPathComponent("exec-\(UUID()).out")
    let err = fm.temporaryDirectory.appendingPathComponent("exec-\(UUID()).err")
    fm.createFile(atPath: out.path, contents: nil)
    fm.createFile(atPath: err.path, contents: nil)
    defer { try? fm.removeItem(at: out); try? fm.removeItem(at: err) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    p.currentDirectoryURL = repositoryRoot
    let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
    p.standardOutput = outHandle
    p.standardError = errHandle
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning, Date() < deadline { usleep(10_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        Issue.record("\(program) \(arguments.joined(separator: " ").prefix(200)): killed after \(Int(timeout)) s")
    }
    p.waitUntilExit()
    try outHandle.close()
    try errHandle.close()
    return (p.terminationStatus, try Data(contentsOf: out), (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// The reference venv's interpreter, with the settings tools/checks expects (offline, one thread).
func python(_ script: String, _ arguments: [String], timeout: TimeInterval = 300) throws
    -> (status: Int32, stdout: Data, stderr: String) {
    try execute(PythonChecks.python.path, [repositoryRoot.appendingPathComponent(script).path] + arguments,
                environment: ["PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "NO_PROXY": "127.0.0.1,localhost"],
                timeout: timeout)
}

/// curl against the server: (HTTP status, body). `-w` appends the status on a line of its own.
func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
    let r = try execute("/usr/bin/curl", ["-sS", "--max-time", "60", "-w", "\n%{http_code}"] + arguments, timeout: 90)
    let text = String(decoding: r.stdout, as: UTF8.self)
    let status = Int(text.split(separator: "\n").last ?? "") ?? -1
    return (status, String(text.dropLast(String(status).count + 1)))
}

/// 16-bit samples of a WAV's data (after the 44-byte canonical header libsndfile and the server write).
func wavSamples(_ data: Data) -> [Int16] { pcmSamples(data.dropFirst(44)) }

func pcmSamples(_ data: Data) -> [Int16] {
    Data(data).withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }.map { Int16(littleEndian: $0) }
}
