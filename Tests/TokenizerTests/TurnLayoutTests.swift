import Foundation
import Testing
@testable import Tokenizer

/// CSM turns against the ids the real `CsmProcessor` (chat template + audio token expansion) produced.
struct TurnLayoutTests {
    @Test func conversationsMatchCsmProcessor() throws {
        let layout = try TurnLayout(tokenizer: Fixture.tokenizer)
        for conversation in Fixture.cases.conversations {
            let ids = conversation.turns.flatMap {
                layout.turnIds(speaker: $0.speaker, text: $0.text, audioFrames: $0.frames)
            }
            #expect(ids == conversation.ids, "\(conversation.turns.map { Fixture.escaped($0.text) })")
        }
    }

    @Test func helloTurn() throws {
        let layout = try TurnLayout(tokenizer: Fixture.tokenizer)
        let hello = Fixture.tokenizer.encode("[0]Hello", addSpecialTokens: false)
        #expect(layout.textIds(speaker: 0, text: "Hello") == [128000] + hello + [128001])
        #expect(layout.turnIds(speaker: 0, text: "Hello", audioFrames: 2) == [128000] + hello + [128001, 128002, 128002, 128003])
    }

    /// The ids come from the files: renaming the audio token in tokenizer_config.json moves it.
    @Test func idsComeFromTheConfig() throws {
        let dir = try Fixture.copy(editing: "tokenizer_config.json") { json in
            json["audio_token"] = "<|reserved_special_token_5|>"
            json["bos_token"] = "<|start_header_id|>"
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenizer = try Tokenizer(folder: dir)
        let layout = try TurnLayout(tokenizer: tokenizer)
        #expect(layout.audioId == tokenizer.tokenToId("<|reserved_special_token_5|>"))
        #expect(layout.bosId == 128006 && layout.audioEOSId == 128003)
        #expect(layout.textIds(speaker: 1, text: "x").first == 128006)
    }

    @Test func missingNamesAreErrors() throws {
        let dir = try Fixture.copy(editing: "tokenizer_config.json") { json in
            json["audio_eos_token"] = "<|no_such_token|>"
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: TurnLayoutError.self) { try TurnLayout(tokenizer: try Tokenizer(folder: dir)) }
    }
}
