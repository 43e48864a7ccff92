import Foundation
import Yams

/// The voices a server speaks with, read from a small YAML or JSON file: each name maps to a context folder
/// (the `--gen_from` layout: its recordings and lines are the conversation the model continues), an optional
/// LoRA adapter folder and an optional speaker id.
///
/// ```yaml
/// alice:
///   context: voices/alice        # segments/script.txt + segments/segment_NNNN_speakerK.wav
///   adapter: outputs/alice-lora   # optional: a PEFT folder (csm train's output)
/// narrator:
///   speaker: 1                    # no context: speaker id 1 of the model
/// ```
///
/// Relative paths are read from the file's folder. The speaker defaults to the context's last line's (`[K]` → K-1),
/// else 0. Without a file, the voices are the model's speaker ids `0`, `1`, … with no context.
public struct VoiceFile: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var context: URL?
        public var adapter: URL?
        public var speaker: Int?
    }

    /// By name, in the file's order.
    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    static let keys: Set<String> = ["context", "adapter", "speaker"]

    /// Reads a voices file; every mistake names the file, the voice and the fix.
    public static func load(_ url: URL) throws -> VoiceFile {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8)
        else { throw ServeError.badVoices("\(url.path) cannot be read (missing, or not UTF-8 text)") }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ServeError.badVoices("\(url.path) is not YAML or JSON: \(error)")
        }
        guard let mapping = node?.mapping, !mapping.isEmpty else {
            throw ServeError.badVoices("\(url.path): expected a mapping of voice names to {context, adapter, speaker}")
        }
        let base = url.deletingLastPathComponent()
        func path(_ value: Node?, _ what: String, _ name: String) throws -> URL? {
            guard let value else { return nil }
            guard let s = value.string, !s.isEmpty else {
                throw ServeError.badVoices("\(url.path): voice '\(name)': \(what) must be a folder path")
            }
            let expanded = (s as NSString).expandingTildeInPath
            let folder = expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded)
                : base.appendingPathComponent(expanded)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
            else { throw ServeError.badVoices("\(url.path): voice '\(name)': \(what) \(folder.path) is not a folder") }
            return folder.standardizedFileURL
        }
        var entries = [Entry]()
        for (key, value) in mapping {
            guard let name = key.string, !name.isEmpty else {
                throw ServeError.badVoices("\(url.path): voice names must be non-empty strings")
            }
            guard let fields = value.mapping else {
                throw ServeError.badVoices("\(url.path): voice '\(name)' must map to {context, adapter, speaker}")
            }
            let given = Dictionary(fields.map { ($0.key.string ?? "", $0.value) }, uniquingKeysWith: { a, _ in a })
            if let unknown = given.keys.first(where: { !keys.contains($0) }) {
                throw ServeError.badVoices("\(url.path): voice '\(name)': unknown key '\(unknown)' "
                    + "(known: adapter, context, speaker)")
            }
            var speaker: Int?
            if let s = given["speaker"] {
                guard let id = s.int, id >= 0 else {
                    throw ServeError.badVoices("\(url.path): voice '\(name)': speaker must be an integer ≥ 0")
                }
                speaker = id
            }
            entries.append(Entry(name: name, context: try path(given["context"], "context", name),
                                 adapter: try path(given["adapter"], "adapter", name), speaker: speaker))
        }
        return VoiceFile(entries: entries)
    }
}
