import Foundation

/// Tokenizes a turn as the CSM chat template lays it out. The real one wraps the Llama-3 BPE tokenizer;
/// tests use fakes.
public protocol TurnTextEncoder {
    /// Ids of `<|begin_of_text|>[speaker]text<|end_of_text|>` (speaker 0-based), as the template writes it.
    /// Throws `UnusableText` for a text no sample can hold (the segment is then skipped).
    func turnIds(speaker: Int, text: String) throws -> [Int]
    /// Number of tokens of `text` alone, without special tokens: what `--text_max_length` limits.
    func tokenCount(_ text: String) throws -> Int
}

/// A script text that cannot become a turn, e.g. one that spells an audio token, which the processor would take
/// for an audio placeholder.
public struct UnusableText: Error, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// The audio codec: mono 24 kHz clips in, codes out. The real one is Mimi; tests use fakes.
public protocol SegmentEncoder {
    var numCodebooks: Int { get }
    /// Frames a clip of `samples` samples yields: the number of `<|AUDIO|>` tokens the CSM processor gives it
    /// (`_get_encoded_length`, ⌈samples / 1920⌉ for Mimi at 24 kHz).
    func frames(forSamples samples: Int) -> Int
    /// Encodes several clips in one call (they may differ in length); for each clip, frames × numCodebooks codes.
    func encode(_ clips: [[Float]]) throws -> [[[Int]]]
}
