/// What the model continues: context turns (text + the Mimi codes of what was said) and the text to speak.
///
/// Laid out as `CsmProcessor.apply_chat_template` renders a conversation whose last message has text only:
/// every context turn as in training (`<bos>[S]text<eos>`, one `<|AUDIO|>` per frame, `<|audio_eos|>`), then
/// `<bos>[S]text<eos>` of the target; generation continues from that last position.
public struct GenerationPrompt: Equatable, Sendable {
    public var context: [Turn]
    /// Token ids of `<bos>[speaker]text<eos>` for the line to speak.
    public var textIds: [Int]

    public init(context: [Turn] = [], textIds: [Int]) {
        self.context = context
        self.textIds = textIds
    }

    /// Positions the prompt takes in the backbone.
    public var length: Int { context.reduce(textIds.count) { $0 + $1.textIds.count + $1.codes.count + 1 } }

    /// The prompt as a sample layout (labels unused): context turns, then the target's text positions.
    public func layout(_ ids: CSMSpecialIds) throws -> SampleLayout {
        guard !textIds.isEmpty else { throw GenerationError.invalidSetting("the text to speak is empty") }
        if let bad = textIds.first(where: { $0 == ids.audioTokenId || $0 == ids.audioEosTokenId }) {
            throw GenerationError.invalidSetting("the text to speak contains audio token id \(bad)")
        }
        var out = try Sample(turns: context).layout(ids)
        let n = textIds.count
        out.inputIds += textIds
        out.codes += [[Int]?](repeating: nil, count: n)
        out.labels += [Int](repeating: CSMLabel.ignore, count: n)
        out.codeLabels += [[Int]](repeating: [Int](repeating: CSMLabel.ignore, count: ids.numCodebooks), count: n)
        return out
    }
}
