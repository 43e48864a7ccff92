import Foundation
import TestSupport
import Testing
@testable import Training

/// The W&B client against a local stand-in speaking the classic protocol: GraphQL viewer +
/// upsertBucket, then file_stream history rows and `complete`.
@Suite struct WandBTests {
    static func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// The history rows the file_stream posts carried, in order (rows travel in batches of any size; each batch's
    /// offset must be the count sent before it), and whether a `complete` came last.
    static func history(_ requests: [TestHTTPServer.Request]) -> (rows: [[String: Any]], complete: Bool) {
        var rows: [[String: Any]] = []
        var complete = false
        for request in requests where request.path.hasSuffix("/file_stream") {
            let body = json(request.body)
            #expect(!complete, "a post after complete")
            if body["complete"] as? Bool == true {
                complete = true
                continue
            }
            let history = (body["files"] as? [String: Any])?["wandb-history.jsonl"] as? [String: Any] ?? [:]
            #expect(history["offset"] as? Int == rows.count)
            rows += (history["content"] as? [String] ?? []).map { json(Data($0.utf8)) }
        }
        return (rows, complete)
    }

    /// A stand-in that creates run1 for alice at once and answers each file_stream post after `delay` seconds.
    static func server(fileStreamDelay delay: TimeInterval, status: Int = 200) throws -> TestHTTPServer {
        try TestHTTPServer { request in
            if request.path == "/graphql" {
                return .init(status: 200, body: Data(#"{"data":{"upsertBucket":{"bucket":{"id":"b1","name":"run1","project":{"name":"csm","entity":{"name":"alice"}}},"inserted":true}}}"#.utf8))
            }
            Thread.sleep(forTimeInterval: delay)
            return .init(status: status, body: Data("{}".utf8))
        }
    }

    static func settings(_ server: TestHTTPServer) -> WandBLogger.Settings {
        var settings = WandBLogger.Settings(apiKey: "k")
        settings.baseURL = server.baseURL
        settings.project = "csm"
        settings.entity = "alice"
        return settings
    }

    @Test func createsTheRunStreamsHistoryAndCompletes() throws {
        let server = try TestHTTPServer { request in
            guard request.headers["authorization"] == "Basic " + Data("api:secret-key".utf8).base64EncodedString() else {
                return .init(status: 401)
            }
            let body = Self.json(request.body)
            if request.path == "/graphql" {
                let query = body["query"] as? String ?? ""
                if query.contains("viewer") {
                    return .init(status: 200, body: Data(#"{"data":{"viewer":{"id":"u1","entity":"alice"}}}"#.utf8))
                }
                return .init(status: 200, body: Data(#"{"data":{"upsertBucket":{"bucket":{"id":"b1","name":"run1","project":{"name":"csm","entity":{"name":"alice"}}},"inserted":true}}}"#.utf8))
            }
            return .init(status: 200, body: Data("{}".utf8))
        }
        defer { server.stop() }
        var settings = WandBLogger.Settings(apiKey: "secret-key")
        settings.baseURL = server.baseURL
        settings.project = "csm"
        var warnings: [String] = []
        let logger = WandBLogger(settings: settings, config: ["batch_size": 2, "learning_rate": 2e-4], runId: "run1",
                                 warn: { warnings.append($0) })
        logger.log(["loss": 3.5, "lr": 1e-4], step: 1)
        logger.log(["loss": 3.0, "lr": 2e-4], step: 2)
        logger.finish()
        #expect(warnings.isEmpty)

        let requests = server.requests
        #expect(requests.prefix(2).map(\.path) == ["/graphql", "/graphql"])
        #expect(requests.dropFirst(2).allSatisfy { $0.path == "/files/alice/csm/run1/file_stream" })
        let upsert = Self.json(requests[1].body)
        let variables = upsert["variables"] as! [String: Any]
        #expect(variables["name"] as? String == "run1" && variables["entity"] as? String == "alice")
        let config = Self.json(Data((variables["config"] as! String).utf8))
        #expect((config["batch_size"] as? [String: Any])?["value"] as? Int == 2)

        let (rows, complete) = Self.history(requests)
        #expect(rows.map { $0["_step"] as? Int } == [1, 2])
        #expect(rows.map { $0["loss"] as? Double } == [3.5, 3.0])
        #expect(complete)
    }

    /// Logging only queues: with a server that takes 2 s per post, 20 rows are logged at once, and `finish` sends
    /// them all, in order, then `complete`.
    @Test func aSlowServerNeverHoldsUpLogging() throws {
        let server = try Self.server(fileStreamDelay: 2)
        defer { server.stop() }
        var warnings: [String] = []
        let logger = WandBLogger(settings: Self.settings(server), config: [:], runId: "run1", warn: { warnings.append($0) })
        let started = Date()
        for step in 1 ... 20 { logger.log(["loss": Double(step)], step: step) }
        let logging = Date().timeIntervalSince(started)
        #expect(logging < 0.5, "20 log calls took \(logging) s")
        logger.finish()
        print("W&B: 20 log calls against a 2 s server took \(String(format: "%.4f", logging)) s; finish "
            + "\(String(format: "%.1f", Date().timeIntervalSince(started) - logging)) s")

        let (rows, complete) = Self.history(server.requests)
        #expect(rows.map { $0["_step"] as? Int } == Array(1 ... 20))
        #expect(complete && warnings.isEmpty && !logger.enabled)
        #expect(server.requests.count < 2 + 20, "rows went in batches")
    }

    /// A service that cannot keep up costs the oldest rows, not memory: the buffer holds `capacity`, one warning
    /// says so, and what is sent stays in order.
    @Test func aFullBufferDropsTheOldestRowsAndWarnsOnce() throws {
        let server = try Self.server(fileStreamDelay: 0.5)
        defer { server.stop() }
        var warnings: [String] = []
        let logger = WandBLogger(settings: Self.settings(server), config: [:], runId: "run1", capacity: 5,
                                 warn: { warnings.append($0) })
        for step in 1 ... 20 { logger.log(["loss": Double(step)], step: step) }
        #expect(warnings.count == 1 && warnings[0].contains("dropping the oldest"))
        logger.finish()

        let steps = Self.history(server.requests).rows.compactMap { $0["_step"] as? Int }
        #expect(steps == steps.sorted() && steps.last == 20 && steps.suffix(5) == [16, 17, 18, 19, 20])
        // How many batches left while the 20 calls ran depends on scheduling; what was not sent was dropped.
        #expect(logger.droppedRows > 0 && logger.droppedRows == 20 - steps.count)
        #expect(warnings.count == 2 && warnings[1].contains("\(logger.droppedRows) rows were dropped"))
    }

    @Test func aFailingFileStreamWarnsOnceAndStops() throws {
        let server = try Self.server(fileStreamDelay: 0, status: 500)
        defer { server.stop() }
        var warnings: [String] = []
        let logger = WandBLogger(settings: Self.settings(server), config: [:], runId: "run1", warn: { warnings.append($0) })
        for step in 1 ... 3 { logger.log(["loss": 1], step: step) }
        logger.finish()
        #expect(!logger.enabled)
        #expect(warnings.count == 1 && warnings[0].contains("cannot send metrics") && warnings[0].contains("500"))
        #expect(server.requests.filter { $0.path.hasSuffix("/file_stream") }.count == 1)
    }

    @Test func failuresWarnAndDisableInsteadOfThrowing() throws {
        let server = try TestHTTPServer { _ in .init(status: 401) }
        defer { server.stop() }
        var settings = WandBLogger.Settings(apiKey: "wrong")
        settings.baseURL = server.baseURL
        settings.entity = "alice"
        var warnings: [String] = []
        let logger = WandBLogger(settings: settings, config: [:], warn: { warnings.append($0) })
        logger.log(["loss": 1], step: 1)
        logger.finish()
        #expect(!logger.enabled)
        #expect(warnings.count == 1)
        #expect(warnings[0].contains("401") && warnings[0].contains("WANDB_API_KEY"))
    }

    @Test func unreachableServerWarns() {
        var settings = WandBLogger.Settings(apiKey: "k")
        settings.baseURL = URL(string: "http://127.0.0.1:9")!  // discard port: connection refused
        settings.entity = "alice"
        var warnings: [String] = []
        let logger = WandBLogger(settings: settings, config: [:], timeout: 5, warn: { warnings.append($0) })
        #expect(!logger.enabled && warnings.count == 1)
    }

    @Test(.disabled(if: ProcessInfo.processInfo.environment["WANDB_API_KEY"] != nil,
                    "WANDB_API_KEY is set in this environment, and it wins over a .env file"))
    func keyComesFromDotEnvWhenNotInTheEnvironment() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("env-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "# secrets\nWANDB_API_KEY=\"from-dotenv\"\nWANDB_PROJECT=demo\n".write(
            to: dir.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let s = try #require(WandBLogger.Settings.fromEnvironment(directory: dir))
        #expect(s.apiKey == "from-dotenv" && s.project == "demo")
        #expect(WandBLogger.Settings.fromEnvironment(directory: dir.appendingPathComponent("none")) == nil)
    }
}
