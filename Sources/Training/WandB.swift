import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Weights & Biases over its HTTP API, the classic client's protocol: GraphQL `upsertBucket`
/// creates the run with its config, `file_stream` receives history rows, and a final `complete`
/// closes it. Rows go out from a background thread (`HistoryStream`), so `log` never waits on the
/// network. Any failure turns into a warning and disables the logger; training goes on.
public final class WandBLogger: @unchecked Sendable {
    public struct Settings {
        public var apiKey: String
        public var baseURL = URL(string: "https://api.wandb.ai")!
        public var project = "csm-swift"
        public var entity: String? = nil
        public var runName: String? = nil

        /// From WANDB_API_KEY / WANDB_BASE_URL / WANDB_PROJECT / WANDB_ENTITY, falling back to a
        /// `.env` file in `directory` for any of them. Nil when no key is found.
        public static func fromEnvironment(directory: URL = URL(fileURLWithPath: ".")) -> Settings? {
            var env = ProcessInfo.processInfo.environment
            if let text = try? String(contentsOf: directory.appendingPathComponent(".env"), encoding: .utf8) {
                for line in text.split(whereSeparator: \.isNewline) {
                    let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2, !parts[0].hasPrefix("#") else { continue }
                    let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                    if env[parts[0]] == nil { env[parts[0]] = value }
                }
            }
            guard let key = env["WANDB_API_KEY"], !key.isEmpty else { return nil }
            var s = Settings(apiKey: key)
            if let base = env["WANDB_BASE_URL"], let url = URL(string: base) { s.baseURL = url }
            if let project = env["WANDB_PROJECT"] { s.project = project }
            s.entity = env["WANDB_ENTITY"]
            s.runName = env["WANDB_NAME"]
            return s
        }
    }

    private var settings: Settings
    private let runId: String
    private var entity = ""
    private let start = Date()
    private let timeout: TimeInterval
    /// Nil when the run could not be created.
    private var stream: HistoryStream?

    /// `capacity`: rows held while the service is slow or away, before the oldest are dropped.
    public init(settings: Settings, config: [String: Any], runId: String? = nil, timeout: TimeInterval = 20,
                capacity: Int = 1000, warn: @escaping (String) -> Void) {
        self.settings = settings
        self.runId = runId ?? String((0 ..< 8).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        self.timeout = timeout
        do {
            try upsertRun(config: config)
        } catch {
            warn("W&B: cannot create the run (\(error)); training continues without W&B")
            return
        }
        // The sender's closures hold copies, not the logger: it may go away while a post is still in flight.
        let (url, key) = (fileStreamURL, settings.apiKey)
        stream = HistoryStream(capacity: capacity, send: { rows, offset in
            let files = ["wandb-history.jsonl": ["offset": offset, "content": rows]]
            _ = try Self.post(url, json: ["files": files], apiKey: key, timeout: timeout)
        }, complete: { code in
            _ = try Self.post(url, json: ["complete": true, "exitcode": code], apiKey: key, timeout: timeout)
        }, warn: warn)
    }

    /// False once the run could not be created, a post failed, or `finish` ran.
    public var enabled: Bool { stream?.isOpen ?? false }
    /// Rows dropped because the buffer was full.
    public var droppedRows: Int { stream?.dropped ?? 0 }

    public var runURL: String { "\(settings.baseURL.absoluteString)/\(entity)/\(settings.project)/runs/\(runId)" }

    /// Queues one history row (`_step`, `_runtime`, `_timestamp` added); returns at once.
    public func log(_ metrics: [String: Double], step: Int) {
        guard let stream, stream.isOpen else { return }
        var row: [String: Any] = metrics
        row["_step"] = step
        row["_runtime"] = Date().timeIntervalSince(start)
        row["_timestamp"] = Date().timeIntervalSince1970
        guard let line = try? JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]) else { return }
        stream.append(String(decoding: line, as: UTF8.self))
    }

    /// Sends the queued rows, then marks the run finished with the process's `exitCode` (W&B shows non-zero as
    /// failed); waits at most `waitAtMost` seconds so a dead service cannot hold up the exit.
    public func finish(exitCode: Int = 0, waitAtMost: TimeInterval = 30) {
        stream?.finish(exitCode: exitCode, waitAtMost: waitAtMost)
    }

    private var fileStreamURL: URL {
        settings.baseURL.appendingPathComponent("files/\(entity)/\(settings.project)/\(runId)/file_stream")
    }

    private func upsertRun(config: [String: Any]) throws {
        let graphql = settings.baseURL.appendingPathComponent("graphql")
        if settings.entity == nil {
            let viewer = try post(graphql, json: ["query": "query Viewer { viewer { id entity } }"])
            settings.entity = ((viewer["data"] as? [String: Any])?["viewer"] as? [String: Any])?["entity"] as? String
        }
        // W&B stores config values as {"key": {"desc": null, "value": v}}.
        let wrapped = config.mapValues { ["desc": NSNull(), "value": $0] as [String: Any] }
        let configJSON = String(decoding: try JSONSerialization.data(withJSONObject: wrapped, options: [.sortedKeys]), as: UTF8.self)
        let mutation = """
        mutation UpsertBucket($name: String, $project: String, $entity: String, $config: JSONString, $displayName: String, $program: String) {
          upsertBucket(input: {name: $name, modelName: $project, entityName: $entity, config: $config, displayName: $displayName, jobProgram: $program}) {
            bucket { id name project { name entity { name } } }
            inserted
          }
        }
        """
        var variables: [String: Any] = ["name": runId, "project": settings.project, "config": configJSON, "program": "csm train"]
        if let e = settings.entity { variables["entity"] = e }
        if let n = settings.runName { variables["displayName"] = n }
        let response = try post(graphql, json: ["query": mutation, "variables": variables])
        if let errors = response["errors"] as? [[String: Any]], let first = errors.first {
            throw ConfigError("\(first["message"] ?? "GraphQL error")")
        }
        let bucket = ((response["data"] as? [String: Any])?["upsertBucket"] as? [String: Any])?["bucket"] as? [String: Any]
        let project = bucket?["project"] as? [String: Any]
        entity = ((project?["entity"] as? [String: Any])?["name"] as? String) ?? settings.entity ?? ""
        guard !entity.isEmpty else { throw ConfigError("the server did not say which entity owns the run") }
    }

    private func post(_ url: URL, json: [String: Any]) throws -> [String: Any] {
        try Self.post(url, json: json, apiKey: settings.apiKey, timeout: timeout)
    }

    /// A blocking JSON POST with basic auth ("api", key).
    private static func post(_ url: URL, json: [String: Any], apiKey: String, timeout: TimeInterval) throws
        -> [String: Any] {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let auth = Data("api:\(apiKey)".utf8).base64EncodedString()
        request.setValue("Basic \(auth)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])

        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Data, HTTPURLResponse), Error> = .failure(ConfigError("no response"))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { result = .failure(error) } else if let http = response as? HTTPURLResponse {
                result = .success((data ?? Data(), http))
            }
            done.signal()
        }.resume()
        done.wait()
        let (data, http) = try result.get()
        guard (200 ..< 300).contains(http.statusCode) else {
            throw ConfigError("HTTP \(http.statusCode) from \(url.path)\(http.statusCode == 401 ? " (check WANDB_API_KEY)" : "")")
        }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}
