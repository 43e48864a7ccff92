import CSM
import Foundation
import Torch

/// One conversation's kept segments in one safetensors file, each stored once, rows concatenated:
/// - `codes` int16 (frames, codebooks), `frame_offsets` int64 (n+1): segment i is rows `[o[i], o[i+1])`
/// - `text_ids` int32 (tokens), `text_offsets` int64 (n+1): the turn's ids, bos … eos
/// - `speakers` int64 (n), `durations` float32 (n) seconds
public struct SegmentShard {
    public struct Segment {
        public var textIds: [Int]
        public var speaker: Int
        /// frames × codebooks.
        public var codes: [[Int]]
        public var duration: Double
    }

    public let codes: [Int16]
    public let frameOffsets: [Int64]
    public let textIds: [Int32]
    public let textOffsets: [Int64]
    public let speakers: [Int64]
    public let numCodebooks: Int

    public var count: Int { speakers.count }

    public static func write(_ segments: [Segment], numCodebooks: Int, conversation: String, to url: URL) throws {
        var codes: [Int16] = [], frameOffsets: [Int64] = [0], ids: [Int32] = [], textOffsets: [Int64] = [0]
        for s in segments {
            for frame in s.codes {
                guard frame.count == numCodebooks else {
                    throw DatasetError.encoder("codec returned \(frame.count) codes per frame, expected \(numCodebooks)")
                }
                for c in frame {
                    guard let v = Int16(exactly: c), v >= 0 else { throw DatasetError.encoder("codec returned code \(c)") }
                    codes.append(v)
                }
            }
            frameOffsets.append(frameOffsets.last! + Int64(s.codes.count))
            ids += s.textIds.map { Int32($0) }
            textOffsets.append(textOffsets.last! + Int64(s.textIds.count))
        }
        let tensors: [String: Tensor] = [
            "codes": try Tensor(codes, shape: [codes.count / numCodebooks, numCodebooks]),
            "frame_offsets": try Tensor(frameOffsets),
            "text_ids": try Tensor(ids),
            "text_offsets": try Tensor(textOffsets),
            "speakers": try Tensor(segments.map { Int64($0.speaker) }),
            "durations": try Tensor(segments.map { Float($0.duration) }),
        ]
        try Safetensors.write(tensors, metadata: ["conversation": conversation,
                                                  "format_version": String(Manifest.formatVersion)], to: url)
    }

    public init(contentsOf url: URL) throws {
        do {
            let file = try SafetensorsFile(path: url.path)
            codes = try file.tensor("codes").toArray(Int16.self)
            numCodebooks = file.entries["codes"]!.shape.last ?? 0
            frameOffsets = try file.tensor("frame_offsets").toArray(Int64.self)
            textIds = try file.tensor("text_ids").toArray(Int32.self)
            textOffsets = try file.tensor("text_offsets").toArray(Int64.self)
            speakers = try file.tensor("speakers").toArray(Int64.self)
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError.corrupt(url.path, "unreadable shard (\(error))")
        }
        guard frameOffsets.count == count + 1, textOffsets.count == count + 1,
              Int(frameOffsets.last!) * numCodebooks == codes.count, Int(textOffsets.last!) == textIds.count else {
            throw DatasetError.corrupt(url.path, "shard offsets do not match its tensors")
        }
    }

    /// Segment `i` as a CSM turn.
    public func turn(_ i: Int) -> Turn {
        let k = numCodebooks
        let frames = (Int(frameOffsets[i]) ..< Int(frameOffsets[i + 1])).map { f in
            codes[f * k ..< (f + 1) * k].map(Int.init)
        }
        let ids = textIds[Int(textOffsets[i]) ..< Int(textOffsets[i + 1])].map(Int.init)
        return Turn(speaker: Int(speakers[i]), textIds: ids, codes: frames)
    }
}
