import Foundation

/// One kept segment as the manifest lists it; its tensors are row `index` of its conversation's shard.
public struct SegmentRecord: Codable, Equatable, Sendable {
    /// The wav file name, e.g. `003_speaker2.wav`.
    public var file: String
    /// Script line (= wav number).
    public var number: Int
    public var speaker: Int
    /// Seconds of audio at 24 kHz.
    public var duration: Double
    /// Mimi frames (= `<|AUDIO|>` positions of the turn).
    public var frames: Int
    /// Length of the turn's text ids (bos … eos).
    public var textIds: Int

    enum CodingKeys: String, CodingKey {
        case file, number, speaker, duration, frames, textIds = "text_ids"
    }
}

/// What preprocessing one conversation produced. Written to `progress/` as soon as the conversation is
/// done (that file is the resume record), then gathered into the manifest and report.
public struct ConversationRecord: Codable, Equatable, Sendable {
    public var id: String
    public var signature: String
    /// Shard path relative to the output folder; nil when no segment was kept.
    public var shard: String?
    public var segments: [SegmentRecord]
    public var skips: [Skip]
}

/// A sample: segments of one conversation, context first, target last.
public struct SampleRef: Codable, Equatable, Sendable {
    /// Index into `Manifest.conversations`.
    public var conversation: Int
    /// Indices into that conversation's `segments`, oldest first; the last one is the target.
    public var segments: [Int]
}

/// `manifest.json`: the index of a preprocessed set. Its presence marks a finished run.
public struct Manifest: Codable, Equatable, Sendable {
    public static let formatName = "csm-swift.preprocessed"
    public static let formatVersion = 1
    public static let fileName = "manifest.json"

    public var settings: PreprocessSettings
    public var numCodebooks: Int
    /// Conversations with at least one kept segment, in processing order.
    public var conversations: [ConversationRecord]
    public var samples: [SampleRef]
    public var totalAudioSeconds: Double

    enum CodingKeys: String, CodingKey {
        case settings, numCodebooks = "num_codebooks", conversations, samples
        case totalAudioSeconds = "total_audio_seconds"
    }

    /// Samples of each conversation: one per kept segment, with up to `contextTurns` preceding kept
    /// segments as context (SPEC §3).
    public static func samples(conversations: [ConversationRecord], contextTurns: Int) -> [SampleRef] {
        var out: [SampleRef] = []
        for (c, conversation) in conversations.enumerated() {
            for target in conversation.segments.indices {
                out.append(SampleRef(conversation: c, segments: Array(max(0, target - contextTurns) ... target)))
            }
        }
        return out
    }
}

/// JSON as the output folder stores it: sorted keys, so the same run gives the same bytes.
enum StableJSON {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }

    static func decode<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError.corrupt(url.path, "cannot be read (\(Scanner.reason(error)))")
        }
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw DatasetError.corrupt(url.path, "not the expected JSON (\(error))")
        }
    }
}
