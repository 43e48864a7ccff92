import Foundation
@testable import Tokenizer
import TestSupport

/// Tests/Fixtures/tokenizer, written by tools/fixtures/tokenizer.py.
enum Fixture {
    static let folder = fixturesFolder.appendingPathComponent("tokenizer")

    struct EncodeCase: Decodable {
        let text: String
        let ids: [Int]
        let ids_special: [Int]
        /// Present only where decoding does not give `text` back.
        let decoded: String?
        let decoded_skip: String?
        /// For some cases: the UTF-8 byte lengths of the Llama-3 split's pre-tokens.
        let split: [Int]?
    }

    struct DecodeCase: Decodable {
        let ids: [Int]
        let text: String
        let text_skip: String
    }

    struct Turn: Decodable {
        let speaker: Int
        let text: String
        let frames: Int?
    }

    struct Conversation: Decodable {
        let turns: [Turn]
        let ids: [Int]
    }

    /// Cases for a modified copy of the tokenizer (the modification itself is read as raw JSON).
    struct Variant: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
        }
        let ids: [String: Int]?
        let cases: [Case]
    }

    /// The regex's class of every code point in `ranges`, as runs [first, count]; the rest is "other".
    struct Classes: Decodable {
        let ranges: [[UInt32]]
        let letters: [[UInt32]]
        let numbers: [[UInt32]]
        let spaces: [[UInt32]]
    }

    struct IgnoreMerges: Decodable {
        let vocab: [String: Int]
        let texts: [String]
        let ids: [[Int]]
        let ids_without_ignore_merges: [[Int]]
    }

    struct Cases: Decodable {
        let encode: [EncodeCase]
        let decode: [DecodeCase]
        let conversations: [Conversation]
        let variant: Variant
        let regex_fallback: Variant
        let ignore_merges: IgnoreMerges
        let classes: Classes
    }

    static let cases: Cases = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("cases.json"))
        return try! JSONDecoder().decode(Cases.self, from: data)
    }()

    /// A raw object of cases.json (e.g. the added tokens and normalizer to splice into tokenizer.json).
    static func rawJSON(_ key: String) -> [String: Any] {
        let data = try! Data(contentsOf: folder.appendingPathComponent("cases.json"))
        let all = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return all[key] as! [String: Any]
    }

    static let tokenizer: Tokenizer = try! Tokenizer(folder: folder)

    /// A scratch copy of the fixture folder, with tokenizer.json / tokenizer_config.json edited by `edit`.
    static func copy(editing file: String? = nil, _ edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        if let file {
            let url = dir.appendingPathComponent(file)
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            edit(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: url)
        }
        return dir
    }

    /// A string with control and non-ASCII characters spelled out, for readable failure messages.
    static func escaped(_ s: String) -> String {
        s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? String($0) : "\\u{\(String($0.value, radix: 16))}" }
            .joined()
    }

    /// "case i: text … expected … got …, first difference at index k" for the first mismatch, else nil.
    static func firstMismatch(_ pairs: [(text: String, expected: [Int], got: [Int])]) -> String? {
        for (i, p) in pairs.enumerated() where p.expected != p.got {
            let k = zip(p.expected, p.got).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(p.expected.count, p.got.count)
            return "case \(i) \"\(escaped(p.text))\": expected \(p.expected), got \(p.got); first difference at index \(k)"
                + " (\(pairs.filter { $0.expected != $0.got }.count) mismatching cases in all)"
        }
        return nil
    }
}
