import Foundation
import Mimi
import Torch
import Tokenizer

/// The CSM chat template's turn text, from the model folder's `tokenizer.json` + token names.
public struct CSMTurnText: TurnTextEncoder {
    public let layout: TurnLayout

    public init(folder: URL) throws {
        layout = try TurnLayout(tokenizer: Tokenizer(folder: folder))
    }

    public func turnIds(speaker: Int, text: String) throws -> [Int] {
        let ids = layout.textIds(speaker: speaker, text: text)
        if let bad = ids.first(where: { $0 == layout.audioId || $0 == layout.audioEOSId }) {
            throw UnusableText("the text contains the audio token \(layout.tokenizer.idToToken(bad) ?? String(bad)), "
                + "which marks audio frames")
        }
        return ids
    }
    public func tokenCount(_ text: String) throws -> Int { layout.tokenizer.encode(text, addSpecialTokens: false).count }
}

/// Mimi (the CSM checkpoint's `codec_model`) encoding a batch of clips, each as if encoded alone.
public struct MimiSegmentEncoder: SegmentEncoder {
    public let model: MimiModel

    public init(model: MimiModel) { self.model = model }

    /// The codec of a CSM checkpoint folder (or a standalone Mimi folder), on `device`.
    public init(folder: URL, device: Device = .cpu) throws { model = try MimiModel.load(folder: folder, device: device) }

    public var numCodebooks: Int { model.numCodebooks }
    public func frames(forSamples samples: Int) -> Int { model.encodedLength(samples) }
    public func encode(_ clips: [[Float]]) throws -> [[[Int]]] {
        // The preprocessor already sized the batch; let Mimi take it whole.
        try model.encode(segments: clips, maxBatchSamples: .max)
    }
}
