import Foundation
@testable import CSM

/// The tiny CSM of tools/fixtures/csm.py and the frames transformers generated on it (tools/fixtures/generation.py).
enum Fixture {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures").standardizedFileURL
    static let tiny = fixtures.appendingPathComponent("csm/tiny")
    static let adapter = fixtures.appendingPathComponent("csm/peft_adapter")

    struct TurnJSON: Decodable { let speaker: Int, text_ids: [Int], codes: [[Int]] }
    struct Case: Decodable {
        let name: String
        let context: [TurnJSON]
        let target_text_ids: [Int]
        let prompt_length: Int
        let frames: [[Int]]

        var prompt: GenerationPrompt {
            GenerationPrompt(context: context.map { Turn(speaker: $0.speaker, textIds: $0.text_ids, codes: $0.codes) },
                             textIds: target_text_ids)
        }
    }
    struct Expected: Decodable {
        let max_new_tokens: Int
        let temperature: Double
        let top_k: Int
        let cases: [Case]
    }

    static let expected: Expected = try! JSONDecoder().decode(
        Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("generation/expected.json")))

    static func model() throws -> CSMForConditionalGeneration { try .load(folder: tiny) }

    /// A fresh empty folder under the temporary directory.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("csm-gen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
