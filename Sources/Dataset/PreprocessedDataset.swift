import CSM
import Foundation

/// Reads the output of `csm preprocess` for training and evaluation. Samples are rebuilt from the stored
/// segments, so the context can be shortened here without re-encoding anything.
public final class PreprocessedDataset {
    public let folder: URL
    public let manifest: Manifest
    /// Shards are small (one conversation); keep the last one, since samples come grouped by conversation.
    private var cached: (index: Int, shard: SegmentShard)?

    public init(_ folder: URL) throws {
        self.folder = folder
        let url = folder.appendingPathComponent(Manifest.fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError.notPreprocessed(folder.path) }
        struct Header: Decodable {
            let settings: PreprocessSettings
        }
        let header = try StableJSON.decode(Header.self, from: url)
        guard header.settings.format == Manifest.formatName, header.settings.formatVersion == Manifest.formatVersion else {
            throw DatasetError.unsupportedFormat(url.path, header.settings.formatVersion)
        }
        manifest = try StableJSON.decode(Manifest.self, from: url)
    }

    public var count: Int { manifest.samples.count }

    /// Refuses a set made with another tokenizer or codec than `model`'s (its ids or codes would mean something
    /// else). The message names both sides: the model the set was made with and the one asked for now.
    public func requireFingerprint(_ model: Fingerprint, modelId: String? = nil) throws {
        let made = manifest.settings.fingerprint
        guard made == model else {
            var what: [String] = [], prints: [String] = []
            if made.tokenizer != model.tokenizer {
                what.append("tokenizer")
                prints.append("tokenizer \(made.tokenizer.prefix(12))… then, \(model.tokenizer.prefix(12))… now")
            }
            if made.codec != model.codec {
                what.append("codec (Mimi weights)")
                prints.append("codec \(made.codec.prefix(12))… then, \(model.codec.prefix(12))… now")
            }
            let now = modelId.map { "--model_id \($0)" } ?? "this model"
            throw DatasetError.invalidArgument("\(folder.path) was preprocessed with --model_id "
                + "\(manifest.settings.arguments.modelId), whose \(what.joined(separator: " and ")) differ from \(now)'s "
                + "(\(prints.joined(separator: "; "))); run csm preprocess again with \(now)")
        }
    }
    public var fingerprint: Fingerprint { manifest.settings.fingerprint }
    /// The context length the set was preprocessed with: the most `contextTurns` can ask for.
    public var maxContextTurns: Int { manifest.settings.arguments.numContextTurns }

    /// Sample `i` with at most `contextTurns` context turns (default: as preprocessed), oldest first.
    public func sample(_ i: Int, contextTurns: Int? = nil) throws -> Sample {
        let ref = manifest.samples[i]
        let keep = try contextLimit(contextTurns) + 1
        let shard = try self.shard(ref.conversation)
        return Sample(turns: ref.segments.suffix(keep).map { shard.turn($0) })
    }

    public func samples(contextTurns: Int? = nil) throws -> [Sample] {
        try (0 ..< count).map { try sample($0, contextTurns: contextTurns) }
    }

    /// Sequence length of sample `i` (text ids + one position per frame + one audio-end per turn) without
    /// loading it: for length-bucketed batching.
    public func length(_ i: Int, contextTurns: Int? = nil) throws -> Int {
        let ref = manifest.samples[i]
        let segments = manifest.conversations[ref.conversation].segments
        return try ref.segments.suffix(contextLimit(contextTurns) + 1).reduce(0) {
            $0 + segments[$1].textIds + segments[$1].frames + 1
        }
    }

    private func contextLimit(_ contextTurns: Int?) throws -> Int {
        guard let n = contextTurns else { return maxContextTurns }
        guard n >= 0, n <= maxContextTurns else {
            throw DatasetError.invalidArgument("context turns \(n): this set was preprocessed with --num_context_turns "
                + "\(maxContextTurns); use 0...\(maxContextTurns) or preprocess again")
        }
        return n
    }

    private func shard(_ conversation: Int) throws -> SegmentShard {
        if let cached, cached.index == conversation { return cached.shard }
        let record = manifest.conversations[conversation]
        guard let path = record.shard else { throw DatasetError.corrupt(folder.path, "\(record.id) has no shard") }
        let shard = try SegmentShard(contentsOf: folder.appendingPathComponent(path))
        guard shard.count == record.segments.count else {
            throw DatasetError.corrupt(path, "holds \(shard.count) segments, the manifest lists \(record.segments.count)")
        }
        cached = (conversation, shard)
        return shard
    }
}
