import Foundation
import Testing
import TestSupport

/// `csm serve` with curl, as a shell user or a load balancer meets it: routes, refusals with OpenAI's error JSON,
/// a stream that equals `csm generate --output -`, the queue bound, and a drain on SIGTERM.
@Suite(.serialized) struct ServeHTTPTests {
    let text = "Hello there, this is a curl test."

    func speech(_ server: ServerProcess, _ body: String, key: String? = "sesame", type: String = "application/json",
                extra: [String] = []) throws -> (status: Int, body: String) {
        // A large body goes through a file (an argument that long exceeds the kernel's limit).
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("body-\(UUID()).json")
        try body.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var args = ["-X", "POST", server.url + "/v1/audio/speech", "-H", "Content-Type: \(type)", "--data-binary",
                    "@" + file.path]
        if let key { args += ["-H", "Authorization: Bearer \(key)"] }
        return try curl(args + extra)
    }

    /// The error JSON's fields, or nil when the body is not OpenAI's error shape.
    func error(_ body: String) -> [String: Any]? {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let error = json["error"] as? [String: Any], error["message"] is String, error["type"] is String,
              error.keys.contains("param"), error.keys.contains("code") else { return nil }
        return error
    }

    @Test func refusesBadRequestsWithOpenAIErrorsAndStreamsWhatGenerateWrites() throws {
        let server = try ServerProcess(["--api_key", "sesame", "--max_input_chars", "200", "--max_audio_seconds", "1",
                                        "--seed", "5", "--chunk_frames", "3"])
        let model = ServerProcess.modelName
        func body(_ fields: [String: Any]) throws -> String {
            let all = ["model": model, "input": text, "voice": "0"].merging(fields) { $1 }
            return String(decoding: try JSONSerialization.data(withJSONObject: all.filter { !($0.value is NSNull) }),
                          as: UTF8.self)
        }
        // (what, status, param, response)
        let cases: [(String, Int, String?, (status: Int, body: String))] = [
            ("no key", 401, nil, try speech(server, body([:]), key: nil)),
            ("wrong key", 401, nil, try speech(server, body([:]), key: "other")),
            ("form content type", 415, nil, try speech(server, body([:]), type: "application/x-www-form-urlencoded")),
            ("bad JSON", 400, nil, try speech(server, "{\"model\": ")),
            ("not an object", 400, nil, try speech(server, "[1, 2]")),
            ("missing input", 400, "input", try speech(server, body(["input": NSNull()]))),
            ("empty input", 400, "input", try speech(server, body(["input": ""]))),
            ("huge input", 400, "input", try speech(server, body(["input": String(repeating: "a", count: 201)]))),
            ("unknown voice", 400, "voice", try speech(server, body(["voice": "alloy"]))),
            ("unknown model", 404, "model", try speech(server, body(["model": "tts-1"]))),
            ("mp3", 400, "response_format", try speech(server, body(["response_format": "mp3"]))),
            ("opus", 400, "response_format", try speech(server, body(["response_format": "opus"]))),
            ("speed", 400, "speed", try speech(server, body(["speed": 1.5]))),
            ("unknown field", 400, "colour", try speech(server, body(["colour": "blue"]))),
            ("unknown route", 404, nil, try curl([server.url + "/v1/chat/completions", "-H", "Authorization: Bearer sesame"])),
            ("body too large", 413, nil, try speech(server, String(repeating: " ", count: 2 << 20))),
        ]
        for (what, status, param, response) in cases {
            let fields = error(response.body)
            #expect(response.status == status && fields != nil, "\(what): \(response.status) \(response.body)")
            #expect(fields?["param"] as? String == param, "\(what): param of \(response.body)")
        }
        #expect(cases.first { $0.0 == "mp3" }?.3.body.contains("supported: wav, pcm, flac") == true)

        // Open routes and listings.
        let health = try curl([server.url + "/health"])
        #expect(health.status == 200 && health.body.contains("\"status\":\"ok\""), "\(health)")
        let models = try curl([server.url + "/v1/models", "-H", "Authorization: Bearer sesame"])
        let list = try JSONSerialization.jsonObject(with: Data(models.body.utf8)) as? [String: Any]
        let ids = (list?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(models.status == 200 && list?["object"] as? String == "list" && ids == [model], "\(models)")

        // speed 1 is accepted; raw pcm equals `csm generate --stream --output -` (same seed, chunks, voice 0).
        let pcm = root("pcm")
        let ok = try speech(server, body(["response_format": "pcm", "speed": 1]), extra: ["-o", pcm.path])
        #expect(ok.status == 200, "\(ok)")
        let reference = try execute(ServerProcess.csm, [
            "generate", "--model_id", ServerProcess.model, "--text", text, "--speaker", "0", "--seed", "5",
            "--max_audio_seconds", "1", "--stream", "--chunk_frames", "3", "--output", "-"] + ServerProcess.cpu)
        #expect(reference.status == 0, "\(reference.stderr)")
        let served = (try? Data(contentsOf: pcm)) ?? Data()
        #expect(!served.isEmpty && served == reference.stdout,
                "pcm from the server (\(served.count) bytes) vs csm generate --output - (\(reference.stdout.count))")
        try? FileManager.default.removeItem(at: pcm)

        let stopped = server.stop(SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(stopped)\n\(server.output)")
        #expect(!server.output.contains("Fatal error"), "\(server.output)")
    }

    /// SIGTERM while a request streams: no new connections, the request runs to its end, exit 0.
    @Test func sigtermDrainsTheRequestInFlightAndExitsZero() throws {
        let server = try ServerProcess(["--max_audio_seconds", "3", "--chunk_frames", "1", "--seed", "1"])
        let out = root("drain"), frames = 37  // 3 s at 12.5 frames/s
        defer { try? FileManager.default.removeItem(at: out) }
        let body = "{\"model\": \"\(ServerProcess.modelName)\", \"input\": \"\(text)\", \"voice\": \"1\", \"response_format\": \"wav\"}"
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        client.arguments = ["-sS", "-N", "--max-time", "120", "-o", out.path, "-X", "POST", server.url + "/v1/audio/speech",
                            "-H", "Content-Type: application/json", "--data-binary", body]
        try client.run()
        // Wait for the first audio, then signal.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? FileManager.default.attributesOfItem(atPath: out.path)[.size] as? Int) ?? 0) <= 44 {
            usleep(5_000)
        }
        kill(server.pid, SIGTERM)
        usleep(300_000)
        let late = try curl(["--max-time", "5", server.url + "/health"])
        #expect(late.status != 200, "a new connection after SIGTERM was served: \(late)")
        client.waitUntilExit()
        let stopped = server.stop(SIGTERM)
        #expect(client.terminationStatus == 0, "curl exited \(client.terminationStatus)")
        let size = (try? Data(contentsOf: out).count) ?? 0
        #expect(size == 44 + frames * 1920 * 2, "the drained response: \(size) bytes\n\(server.output)")
        #expect(stopped.exited && stopped.status == 0, "\(stopped)\n\(server.output)")
        #expect(server.output.contains("drained"), "\(server.output)")
    }

    /// More requests than the queue holds: the overflow gets 429 with OpenAI's error, the others their audio.
    @Test func aFullQueueAnswers429() throws {
        let server = try ServerProcess(["--max_queue", "1", "--max_batch", "1", "--max_audio_seconds", "2", "--seed", "2"])
        let body = "{\"model\": \"\(ServerProcess.modelName)\", \"input\": \"\(text)\", \"voice\": \"0\", \"response_format\": \"pcm\"}"
        // Four clients at once, each on a thread of its own (curl blocks): one speaks, one waits, two are refused.
        let lock = NSLock(), group = DispatchGroup()
        nonisolated(unsafe) var codes = [Int]()  // behind `lock`
        for _ in 0..<4 {
            group.enter()
            Thread {
                let r = try? curl(["-X", "POST", server.url + "/v1/audio/speech", "-H", "Content-Type: application/json",
                                   "--data-binary", body, "-o", "/dev/null"])
                lock.withLock { codes.append(r?.status ?? -1) }
                group.leave()
            }.start()
        }
        group.wait()
        codes.sort()
        #expect(codes.contains(200) && codes.contains(429) && codes.allSatisfy { $0 == 200 || $0 == 429 }, "\(codes)")
        let stopped = server.stop(SIGTERM)
        #expect(stopped.exited && stopped.status == 0)
    }

    /// Requests that share the batch get what each gets alone: four texts of different lengths at once, then one by
    /// one (greedy, so only a near-tie in the last bits of a wider product could move a code). In f32, where a row's
    /// product does not depend on the other rows; bf16 (serve's default) on a CPU without bf16 arithmetic sums a
    /// row differently with 1 and with 4 rows, so there a batched row is the same within rounding, not bit for bit.
    @Test func concurrentRequestsGetWhatEachGetsAlone() throws {
        let server = try ServerProcess(["--max_audio_seconds", "1.6", "--topk", "1", "--chunk_frames", "2", "--dtype", "f32"])
        let texts = ["Hi.", "A somewhat longer line of text to speak.", "Third one here.", "And the fourth, last."]
        @Sendable func request(_ i: Int) -> Data {
            let body = try! JSONSerialization.data(withJSONObject: [
                "model": ServerProcess.modelName, "input": texts[i], "voice": "\(i % 2)", "response_format": "pcm"])
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID()).pcm")
            defer { try? FileManager.default.removeItem(at: out) }
            let r = try? curl(["-X", "POST", server.url + "/v1/audio/speech", "-H", "Content-Type: application/json",
                               "--data-binary", String(decoding: body, as: UTF8.self), "-o", out.path])
            return r?.status == 200 ? (try? Data(contentsOf: out)) ?? Data() : Data()
        }
        let lock = NSLock(), group = DispatchGroup()
        nonisolated(unsafe) var together = [Data](repeating: Data(), count: texts.count)  // behind `lock`
        for i in texts.indices {
            group.enter()
            Thread {
                let audio = request(i)
                lock.withLock { together[i] = audio }
                group.leave()
            }.start()
        }
        group.wait()
        let alone = texts.indices.map(request)
        for i in texts.indices {
            #expect(!alone[i].isEmpty && together[i] == alone[i],
                    "\(texts[i]): \(together[i].count) bytes in the batch, \(alone[i].count) alone")
        }
        #expect(["2", "3", "4"].contains { server.output.contains("joins the batch (\($0) of at most 8 rows)") },
                "the requests never shared the batch:\n\(server.output)")
        let stopped = server.stop(SIGTERM)
        #expect(stopped.exited && stopped.status == 0)
    }

    func root(_ name: String) -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(name)-\(UUID())") }
}
