import CSM
import Foundation
import Tokenizer

/// `--mask_speaker_ids`: turns whose text is `<bos>text<eos>` instead of `<bos>[K]text<eos>`, so the model must
/// take the voice from the audio context rather than from the speaker id. `csm train` trains on these samples,
/// and `csm eval` / `--eval_speech_every` evaluate a model so trained on them too.
///
/// The ids cannot be cut out of the stored ones (the byte-level BPE merges "]" with the first word),
/// so each turn's text is read again from the script of the raw dataset the set was made from and
/// laid out by a `TurnLayout` that leaves the prefix out.
public struct SpeakerMasking {
    public let dataset: PreprocessedDataset
    public let layout: TurnLayout
    private var scripts: [String: [Int: String]] = [:]  // conversation id → line number → text

    public init(dataset: PreprocessedDataset, tokenizer: Tokenizer) throws {
        self.dataset = dataset
        layout = try TurnLayout(tokenizer: tokenizer, maskSpeakerIds: true)
    }

    /// Sample `i` as `dataset.sample(i, contextTurns:)` returns it, its text ids without speaker ids.
    public mutating func sample(_ i: Int, contextTurns: Int?) throws -> Sample {
        var sample = try dataset.sample(i, contextTurns: contextTurns)
        let ref = dataset.manifest.samples[i]
        let conversation = dataset.manifest.conversations[ref.conversation]
        let segments = ref.segments.suffix(sample.turns.count)
        for (t, s) in zip(sample.turns.indices, segments) {
            let text = try line(conversation.segments[s].number, of: conversation.id)
            sample.turns[t].textIds = layout.textIds(speaker: sample.turns[t].speaker, text: text)
        }
        return sample
    }

    private mutating func line(_ number: Int, of conversation: String) throws -> String {
        if scripts[conversation] == nil {
            let root = URL(fileURLWithPath: dataset.manifest.settings.arguments.inputPath)
            let url = root.appendingPathComponent(conversation).appendingPathComponent("segments")
                .appendingPathComponent(Scanner.scriptName)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw DatasetError.invalidArgument("--mask_speaker_ids needs the raw dataset the set was made from: cannot read \(url.path)")
            }
            var lines: [Int: String] = [:]
            for l in Script.parse(data) { if case .turn(_, let text) = l.content { lines[l.number] = text } }
            scripts[conversation] = lines
        }
        guard let text = scripts[conversation]?[number] else {
            throw DatasetError.invalidArgument("--mask_speaker_ids: line \(number) of \(conversation)'s script changed since preprocessing")
        }
        return text
    }
}
