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
        #expect(requests.map(\.path) == ["/graphql", "/graphql", "/files/alice/csm/run1/file_stream",
                                         "/files/alice/csm/run1/file_stream", "/files/alice/csm/run1/file_stream"])
        let upsert = Self.json(requests[1].body)
        let variables = upsert["variables"] as! [String: Any]
        #expect(variables["name"] as? String == "run1" && variables["entity"] as? String == "alice")
        let config = Self.json(Data((variables["config"] as! String).utf8))
        #expect((config["batch_size"] as? [String: Any])?["value"] as? Int == 2)

        for (i, request) in requests[2...3].enumerated() {
            let files = Self.json(request.body)["files"] as! [String: Any]
            let history = files["wandb-history.jsonl"] as! [String: Any]
            #expect(history["offset"] as? Int == i)
            let row = Self.json(Data((history["content"] as! [String])[0].utf8))
            #expect(row["_step"] as? Int == i + 1)
            #expect(row["loss"] as? Double == [3.5, 3.0][i])
        }
        #expect(Self.json(requests[4].body)["complete"] as? Bool == true)
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

    @Test func keyComesFromDotEnvWhenNotInTheEnvironment() throws {
        guard ProcessInfo.processInfo.environment["WANDB_API_KEY"] == nil else { return }
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
