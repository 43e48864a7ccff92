import Audio
import ConsoleProgress
import Foundation
import Torch

/// `csm preprocess`: raw conversations → segments (text ids, speaker, Mimi codes) in per-conversation
/// shards, samples in the manifest. One conversation in memory at a time; resumable at conversation
/// granularity; bad input becomes a named skip.
public final class Preprocessor {
    public let options: PreprocessOptions
    public let fingerprint: Fingerprint
    let tokenizer: TurnTextEncoder
    let codec: SegmentEncoder

    /// File → mono float samples at `sampleRate`.
    public var loadAudio: (URL) throws -> [Float] = { try AudioFile.loadMono($0) }
    public var sampleRate = AudioFile.codecSampleRate
    /// Most (padded) audio samples one codec call receives: bounds memory whatever a conversation's size.
    /// On a CPU larger batches run no faster (the convolutions are already parallel inside one clip) and cost
    /// memory: 40 s batches peaked ~270 MiB above 10 s ones with the full-size Mimi.
    public var batchSamples = 24_000 * 10
    public var progressStyle = ProgressStyle.automatic
    /// Called after each conversation is saved; tests throw from it to simulate a crash.
    public var afterConversation: ((Int) throws -> Void)?

    public init(options: PreprocessOptions, fingerprint: Fingerprint, tokenizer: TurnTextEncoder,
                codec: SegmentEncoder) {
        self.options = options
        self.fingerprint = fingerprint
        self.tokenizer = tokenizer
        self.codec = codec
    }

    @discardableResult
    public func run(output: URL, overwrite: Bool = false) throws -> Report {
        try options.validate()
        let scan = try Scanner.scan(URL(fileURLWithPath: options.inputPath))
        let folder = OutputFolder(output)
        let settings = PreprocessSettings(fingerprint: fingerprint, arguments: options)
        try folder.prepare(settings, overwrite: overwrite)

        let progress = PreprocessProgress(style: progressStyle, conversations: scan.conversations.count)
        var records: [ConversationRecord] = []
        for (i, conversation) in scan.conversations.enumerated() {
            let started = Date()
            let plan = ConversationPlan.make(conversation)
            let resumed = folder.finishedRecord(conversation, signature: plan.signature)
            let record = try resumed ?? process(conversation, plan, shardPath: folder.shardPath(conversation),
                                                 output: folder.url)
            if resumed == nil { try folder.save(record, for: conversation) }
            records.append(record)
            progress.conversation(conversation.id, kept: record.segments.count,
                                  skipped: record.skips.filter { $0.segment != nil }.count,
                                  audio: record.segments.reduce(0) { $0 + $1.duration },
                                  seconds: Date().timeIntervalSince(started), resumed: resumed != nil)
            try afterConversation?(i)
        }
        progress.finish()

        let written = records.filter { $0.shard != nil }
        let samples = Manifest.samples(conversations: written, contextTurns: options.numContextTurns)
        let report = Report(found: scan.conversations.count, records: records, scanSkips: scan.skips,
                            samples: samples.count)
        let manifest = Manifest(settings: settings, numCodebooks: codec.numCodebooks, conversations: written,
                                samples: samples, totalAudioSeconds: report.audioSeconds)
        try writeAtomically(try StableJSON.encode(report), to: folder.reportURL)
        try writeAtomically(try StableJSON.encode(manifest), to: folder.manifestURL)
        return report
    }

    /// A segment that passed every filter, waiting for its codes.
    private struct Pending {
        let source: SegmentSource
        var audio: [Float]
        let samples: Int
        let textIds: [Int]
        var codes: [[Int]] = []
    }

    func process(_ conversation: ConversationSource, _ plan: ConversationPlan, shardPath: String,
                 output: URL) throws -> ConversationRecord {
        var record = ConversationRecord(id: conversation.id, signature: plan.signature, shard: nil, segments: [],
                                        skips: plan.skips)
        if let reason = plan.skipped {
            record.skips.append(Skip(conversation: conversation.id, reason))
            return record
        }
        var kept: [Pending] = []
        for segment in plan.segments {
            func skip(_ reason: SkipReason) {
                record.skips.append(Skip(conversation: conversation.id, segment: segment.file, reason))
            }
            let audio: [Float]
            do { audio = try loadAudio(segment.wav) } catch {
                skip(.badAudio(Self.shortMessage(error, path: segment.wav.path)))
                continue
            }
            let seconds = Double(audio.count) / Double(sampleRate)
            if seconds < options.minAudioSeconds { skip(.tooShort(seconds: seconds, min: options.minAudioSeconds)); continue }
            if seconds > options.maxAudioSeconds { skip(.tooLong(seconds: seconds, max: options.maxAudioSeconds)); continue }
            let tokens = try tokenizer.tokenCount(segment.text)
            if tokens > options.textMaxLength { skip(.textTooLong(tokens: tokens, max: options.textMaxLength)); continue }
            let ids: [Int]
            do { ids = try tokenizer.turnIds(speaker: segment.speaker, text: segment.text) } catch let e as UnusableText {
                skip(.unusableText(e.reason))
                continue
            }
            kept.append(Pending(source: segment, audio: audio, samples: audio.count, textIds: ids))
        }
        record.skips.sort { ($0.segment ?? "") < ($1.segment ?? "") }
        guard !kept.isEmpty else { return record }

        try encode(&kept)
        let shard = kept.map {
            SegmentShard.Segment(textIds: $0.textIds, speaker: $0.source.speaker, codes: $0.codes,
                                 duration: Double($0.samples) / Double(sampleRate))
        }
        try SegmentShard.write(shard, numCodebooks: codec.numCodebooks, conversation: conversation.id,
                               to: output.appendingPathComponent(shardPath))
        record.shard = shardPath
        record.segments = kept.map {
            SegmentRecord(file: $0.source.file, number: $0.source.number, speaker: $0.source.speaker,
                          duration: Double($0.samples) / Double(sampleRate), frames: $0.codes.count,
                          textIds: $0.textIds.count)
        }
        return record
    }

    /// Codes for every pending segment, in codec calls of similar-length clips (less padding) that hold at
    /// most `batchSamples` padded samples. Each clip's audio is released once encoded.
    private func encode(_ pending: inout [Pending]) throws {
        let order = pending.indices.sorted { pending[$0].samples > pending[$1].samples }
        var start = 0
        while start < order.count {
            let longest = pending[order[start]].samples
            let size = max(1, min(order.count - start, batchSamples / max(longest, 1)))
            let batch = Array(order[start ..< start + size])
            let codes = try codec.encode(batch.map { pending[$0].audio })
            guard codes.count == batch.count else {
                throw DatasetError.encoder("codec returned \(codes.count) results for \(batch.count) clips")
            }
            for (i, p) in zip(batch, codes) {
                let expected = codec.frames(forSamples: pending[i].samples)
                guard p.count == expected else {
                    throw DatasetError.encoder("codec returned \(p.count) frames for \(pending[i].source.file) "
                        + "(\(pending[i].samples) samples); the CSM processor expects \(expected)")
                }
                pending[i].codes = p
                pending[i].audio = []
            }
            start += size
        }
    }

    /// Audio errors name the full path; the skip already names the conversation and file.
    static func shortMessage(_ error: Error, path: String) -> String {
        let text = "\(error)"
        return text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text
    }
}
