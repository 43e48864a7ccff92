/// The interchange types between the dataset, the trainer and the model, and the one function that lays a
/// sample out the way `CsmProcessor` + `CsmForConditionalGeneration._merge_input_ids_with_input_values` do.

/// One turn of a conversation: `[speaker]text` tokenized with the chat template (its bos/eos included),
/// then the Mimi codes of the turn's audio.
public struct Turn: Equatable, Sendable {
    public var speaker: Int
    /// Token ids of `<|begin_of_text|>[speaker]text<|end_of_text|>` (bos and eos included).
    public var textIds: [Int]
    /// frames × numCodebooks Mimi codes.
    public var codes: [[Int]]

    public init(speaker: Int, textIds: [Int], codes: [[Int]]) {
        self.speaker = speaker
        self.textIds = textIds
        self.codes = codes
    }
}

/// A training sample: its turns in order (context first, target last).
public struct Sample: Equatable, Sendable {
    public var turns: [Turn]
    public init(turns: [Turn]) { self.turns = turns }
}

/// The ids the layout needs, taken from `config.json` (see `CSMConfig.specialIds`), never hard-coded.
public struct CSMSpecialIds: Equatable, Sendable {
    /// `<|AUDIO|>`: one position per Mimi frame.
    public var audioTokenId: Int
    /// `<|audio_eos|>`: one position after a turn's frames.
    public var audioEosTokenId: Int
    /// The code every codebook of the audio-end frame holds (embedding and label).
    public var codebookEosTokenId: Int
    public var numCodebooks: Int

    public init(audioTokenId: Int, audioEosTokenId: Int, codebookEosTokenId: Int, numCodebooks: Int) {
        self.audioTokenId = audioTokenId
        self.audioEosTokenId = audioEosTokenId
        self.codebookEosTokenId = codebookEosTokenId
        self.numCodebooks = numCodebooks
    }
}

/// Label values with the processor's meaning.
public enum CSMLabel {
    /// Not a target (text positions, turns left out of the loss).
    public static let ignore = -100
    /// A frame the backbone learns (codebook 0) but the depth decoder skips (decoder fraction < 1).
    public static let backboneOnly = -101
}

/// A sample as the model consumes it; every array has one entry per position.
public struct SampleLayout: Equatable, Sendable {
    /// Text ids; `<|AUDIO|>` / `<|audio_eos|>` at audio positions.
    public var inputIds: [Int]
    /// Per position, numCodebooks codes to embed (audio frames: the Mimi codes; audio end: all
    /// `codebook_eos_token_id`); nil at text positions, which are embedded from `inputIds`.
    public var codes: [[Int]?]
    /// The processor's `labels`: -100 (ignored), -101 (backbone only), else the input id.
    public var labels: [Int]
    /// The model's expanded labels (position × codebook): codes where labelled, -100 elsewhere,
    /// codebooks 1... set to -100 at -101 frames.
    public var codeLabels: [[Int]]

    public var count: Int { inputIds.count }
    /// Positions whose backbone label is an audio target (codebook 0 not -100).
    public var labelledFrames: Int { codeLabels.filter { $0[0] != CSMLabel.ignore }.count }
}

extension Sample {
    /// Number of `<|AUDIO|>` frames over all turns.
    public var frameCount: Int { turns.reduce(0) { $0 + $1.codes.count } }

    /// Lays the sample out as the processor and `_merge_input_ids_with_input_values` do: per turn, its text
    /// ids, one `<|AUDIO|>` per frame, one `<|audio_eos|>`.
    /// - labelTurn: which turns carry labels (all by default, as the processor; the target-only loss
    ///   labels just the last turn). transformers itself cannot express this: its merge relabels every audio
    ///   frame, so only the default matches `CsmForConditionalGeneration` exactly.
    /// - depthSkip: indices (over the labelled `<|AUDIO|>` frames of the sample, in order) that get -101,
    ///   i.e. are trained by the backbone only. The audio-end positions are never skipped, as in the processor.
    public func layout(_ ids: CSMSpecialIds, labelTurn: (Int) -> Bool = { _ in true },
                       depthSkip: Set<Int> = []) throws -> SampleLayout {
        let k = ids.numCodebooks
        let ignoreRow = [Int](repeating: CSMLabel.ignore, count: k)
        let eosRow = [Int](repeating: ids.codebookEosTokenId, count: k)
        var out = SampleLayout(inputIds: [], codes: [], labels: [], codeLabels: [])
        var frameIndex = 0
        for (t, turn) in turns.enumerated() {
            if let bad = turn.textIds.firstIndex(where: { $0 == ids.audioTokenId || $0 == ids.audioEosTokenId }) {
                throw CSMError.invalidSample("turn \(t): text id \(turn.textIds[bad]) is an audio token id")
            }
            out.inputIds += turn.textIds
            out.codes += [[Int]?](repeating: nil, count: turn.textIds.count)
            out.labels += [Int](repeating: CSMLabel.ignore, count: turn.textIds.count)
            out.codeLabels += [[Int]](repeating: ignoreRow, count: turn.textIds.count)
            let labelled = labelTurn(t)
            for (f, frame) in turn.codes.enumerated() {
                guard frame.count == k else {
                    throw CSMError.invalidSample("turn \(t) frame \(f): \(frame.count) codes, the model has \(k) codebooks")
                }
                out.inputIds.append(ids.audioTokenId)
                out.codes.append(frame)
                if !labelled {
                    out.labels.append(CSMLabel.ignore)
                    out.codeLabels.append(ignoreRow)
                } else if depthSkip.contains(frameIndex) {
                    out.labels.append(CSMLabel.backboneOnly)
                    out.codeLabels.append([frame[0]] + ignoreRow.dropFirst())
                } else {
                    out.labels.append(ids.audioTokenId)
                    out.codeLabels.append(frame)
                }
                if labelled { frameIndex += 1 }
            }
            out.inputIds.append(ids.audioEosTokenId)
            out.codes.append(eosRow)
            out.labels.append(labelled ? ids.audioEosTokenId : CSMLabel.ignore)
            out.codeLabels.append(labelled ? eosRow : ignoreRow)
        }
        return out
    }

    /// Number of labelled `<|AUDIO|>` frames (what `depthSkip` indexes).
    public func labelledAudioFrames(labelTurn: (Int) -> Bool = { _ in true }) -> Int {
        turns.enumerated().reduce(0) { $0 + (labelTurn($1.offset) ? $1.element.codes.count : 0) }
    }
}

/// The processor's draw for `depth_decoder_labels_ratio`: `int(n * (1 - ratio))` of the n audio frames,
/// chosen uniformly without replacement, become -101.
public func depthSkipFrames<G: RandomNumberGenerator>(frames n: Int, decoderFraction: Double,
                                                      using rng: inout G) -> Set<Int> {
    let skip = Int(Double(n) * (1 - min(max(decoderFraction, 0), 1)))
    guard skip > 0 else { return [] }
    return Set(Array(0..<n).shuffled(using: &rng).prefix(skip))
}
