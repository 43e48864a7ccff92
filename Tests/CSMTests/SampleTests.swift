import Testing
@testable import CSM

@Suite struct SampleLayoutTests {
    let ids = CSMSpecialIds(audioTokenId: 7, audioEosTokenId: 8, codebookEosTokenId: 0, numCodebooks: 2)

    @Test func layoutMatchesProcessor() throws {
        let s = Sample(turns: [Turn(speaker: 0, textIds: [1, 2, 3], codes: [[5, 6], [9, 4]]),
                               Turn(speaker: 1, textIds: [1, 4], codes: [[3, 3]])])
        let l = try s.layout(ids, depthSkip: [1])
        #expect(l.inputIds == [1, 2, 3, 7, 7, 8, 1, 4, 7, 8])
        #expect(l.labels == [-100, -100, -100, 7, -101, 8, -100, -100, 7, 8])
        #expect(l.codeLabels[4] == [9, -100])
        #expect(l.codeLabels[5] == [0, 0])
        #expect(l.codes[0] == nil && l.codes[3] == [5, 6] && l.codes[5] == [0, 0])
        #expect(l.labelledFrames == 5)
    }

    @Test func targetOnlyLabelsLastTurn() throws {
        let s = Sample(turns: [Turn(speaker: 0, textIds: [1], codes: [[5, 6]]),
                               Turn(speaker: 1, textIds: [1], codes: [[3, 3]])])
        let l = try s.layout(ids, labelTurn: { $0 == 1 })
        #expect(l.labels == [-100, -100, -100, -100, 7, 8])
    }

    @Test func rejectsWrongCodebookCount() {
        let s = Sample(turns: [Turn(speaker: 0, textIds: [1], codes: [[5]])])
        #expect(throws: CSMError.self) { try s.layout(ids) }
    }

    @Test func skipDrawCount() {
        var g = SystemRandomNumberGenerator()
        #expect(depthSkipFrames(frames: 10, decoderFraction: 0.25, using: &g).count == 7)
        #expect(depthSkipFrames(frames: 10, decoderFraction: 1, using: &g).isEmpty)
    }
}
