import Foundation
import Torch

/// The output folder of `csm preprocess`:
/// ```
/// preprocess.json                       settings of the run (written first: a resume must match them)
/// shards/<language>/<conversation>.safetensors
/// progress/<language>/<conversation>.json   one per finished conversation (the resume record)
/// report.json                           every skip with its reason, and totals
/// manifest.json                         written last: its presence marks a complete set
/// ```
/// Every file is written atomically (temporary sibling + rename), so a kill at any point leaves either
/// the old file or the new one; leftover temporaries are removed on the next run.
public struct OutputFolder {
    public let url: URL
    public init(_ url: URL) { self.url = url.standardizedFileURL }

    public var settingsURL: URL { url.appendingPathComponent("preprocess.json") }
    public var manifestURL: URL { url.appendingPathComponent(Manifest.fileName) }
    public var reportURL: URL { url.appendingPathComponent("report.json") }
    var shardsURL: URL { url.appendingPathComponent("shards") }
    var progressURL: URL { url.appendingPathComponent("progress") }

    public func shardPath(_ c: ConversationSource) -> String { "shards/\(c.language)/\(c.name).safetensors" }
    func progressURL(_ c: ConversationSource) -> URL {
        progressURL.appendingPathComponent(c.language).appendingPathComponent("\(c.name).json")
    }

    /// Starts or resumes a run: refuses settings that differ from the ones already there (unless
    /// `overwrite`, which first removes what an earlier run wrote), then records these settings.
    func prepare(_ settings: PreprocessSettings, overwrite: Bool) throws {
        let fm = FileManager.default
        if overwrite {
            for u in [manifestURL, reportURL, settingsURL, shardsURL, progressURL] where fm.fileExists(atPath: u.path) {
                try fm.removeItem(at: u)
            }
        } else if fm.fileExists(atPath: settingsURL.path) {
            let old: PreprocessSettings
            do { old = try StableJSON.decode(PreprocessSettings.self, from: settingsURL) } catch {
                throw DatasetError.settingsChanged(output: url.path, differences: ["its preprocess.json is unreadable"])
            }
            let diffs = settings.differences(from: old)
            guard diffs.isEmpty else { throw DatasetError.settingsChanged(output: url.path, differences: diffs) }
        } else if fm.fileExists(atPath: manifestURL.path) {
            throw DatasetError.settingsChanged(output: url.path, differences: ["a manifest.json of unknown settings"])
        }
        try fm.createDirectory(at: url, withIntermediateDirectories: true)
        removeTemporaries()
        try writeAtomically(try StableJSON.encode(settings), to: settingsURL)
    }

    /// The record of a conversation an earlier run finished, if its files have not changed since.
    func finishedRecord(_ c: ConversationSource, signature: String) -> ConversationRecord? {
        let u = progressURL(c)
        guard FileManager.default.fileExists(atPath: u.path),
              let record = try? StableJSON.decode(ConversationRecord.self, from: u),
              record.id == c.id, record.signature == signature else { return nil }
        if let shard = record.shard, !FileManager.default.fileExists(atPath: url.appendingPathComponent(shard).path) {
            return nil
        }
        return record
    }

    func save(_ record: ConversationRecord, for c: ConversationSource) throws {
        try writeAtomically(try StableJSON.encode(record), to: progressURL(c))
    }

    /// Temporaries that a killed run left behind (`.<name>.tmp-<pid>-<n>`).
    private func removeTemporaries() {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: url, includingPropertiesForKeys: nil) else { return }
        for case let file as URL in walker where file.lastPathComponent.hasPrefix(".")
            && file.lastPathComponent.contains(".tmp-") {
            try? fm.removeItem(at: file)
        }
    }
}
