import Foundation
import Testing
@testable import Tokenizer

/// Bad model folders give errors that name the file.
struct LoadErrorTests {
    @Test func missingFolder() {
        let dir = URL(fileURLWithPath: "/nonexistent/model")
        do {
            _ = try Tokenizer(folder: dir)
            Issue.record("loading a missing folder succeeded")
        } catch {
            #expect("\(error)".contains("/nonexistent/model/tokenizer.json"))
        }
    }

    @Test func malformedJSON() throws {
        let dir = try Fixture.copy()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tokenizer.json")
        try Data("{\"version\": \"1.0\", \"model\": {".utf8).write(to: url)
        do {
            _ = try Tokenizer(folder: dir)
            Issue.record("malformed tokenizer.json loaded")
        } catch let error as TokenizerError {
            guard case .malformedJSON = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.description.contains(url.path))
        }
    }

    @Test func malformedConfig() throws {
        let dir = try Fixture.copy()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("not json".utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        #expect { try Tokenizer(folder: dir) } throws: { "\($0)".contains("tokenizer_config.json") }
    }

    @Test func mergeWithUnknownToken() throws {
        let dir = try Fixture.copy(editing: "tokenizer.json") { json in
            var model = json["model"] as! [String: Any]
            model["merges"] = [["zzz_not_a_token", "e"]]
            json["model"] = model
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try Tokenizer(folder: dir) } throws: {
            "\($0)".contains("tokenizer.json") && "\($0)".contains("model.merges[0]")
        }
    }

    @Test func unsupportedModel() throws {
        let dir = try Fixture.copy(editing: "tokenizer.json") { json in
            var model = json["model"] as! [String: Any]
            model["type"] = "Unigram"
            json["model"] = model
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try Tokenizer(folder: dir) } throws: { "\($0)".contains("Unigram") }
    }
}
