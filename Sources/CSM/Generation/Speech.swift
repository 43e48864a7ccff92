import Audio
import Foundation
import Mimi
import Torch

/// Generated frames → 24 kHz audio through the codec.
public enum Speech {
    public struct Audio {
        public var samples: [Float]
        public var sampleRate: Int
        /// Codes the model may emit but the codec has no entry for (CSM's 2051-code vocabulary has 3 ids
        /// above Mimi's 2048); they were decoded as 0. Non-zero only for an untrained or broken model.
        public var replacedCodes: Int
        public var seconds: Double { Double(samples.count) / Double(sampleRate) }
    }

    /// Decodes frames (each K codes) with Mimi, as transformers' `generate(output_audio=True)`.
    public static func decode(_ frames: [[Int]], codec: MimiModel) throws -> Audio {
        let rate = codec.config.samplingRate
        guard !frames.isEmpty else { return Audio(samples: [], sampleRate: rate, replacedCodes: 0) }
        let (codes, replaced) = try Self.codes(frames, codebookSize: codec.config.codebookSize)
        let audio = try codec.decode(codes).to(.cpu).reshape([-1]).toArray(Float.self)
        return Audio(samples: audio, sampleRate: rate, replacedCodes: replaced)
    }

    /// Frames (each K codes, at least one frame) → codes (1, K, frames) for the codec; codes outside
    /// 0..<`codebookSize` become 0 and are counted.
    static func codes(_ frames: [[Int]], codebookSize size: Int) throws -> (codes: Tensor, replaced: Int) {
        let k = frames[0].count
        var replaced = 0
        var flat = [Int64](repeating: 0, count: k * frames.count)  // (1, K, frames)
        for (f, frame) in frames.enumerated() {
            for (c, code) in frame.enumerated() {
                if (0..<size).contains(code) { flat[c * frames.count + f] = Int64(code) } else { replaced += 1 }
            }
        }
        return (try Tensor(flat, shape: [1, k, frames.count]), replaced)
    }

    /// Writes 16-bit PCM WAV (atomically), creating the folder when needed.
    public static func write(_ audio: Audio, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try WAVWriter.write(audio.samples, sampleRate: audio.sampleRate, to: url)
    }
}
