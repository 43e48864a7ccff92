import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

/// `BatchGenerator` on the tiny fixture: every row's codes are the ones `Generator` gives its prompt alone (greedy and
/// sampled, prompts of different lengths, rows joining, finishing and cancelled mid-way), slots a row does not own
/// are never attended, the host reads one tensor per frame for the whole batch, and limits fail with clear errors.
@Suite struct BatchGenerationTests {
    typealias Options = Generator.Options

    /// Four prompts of different lengths: no context (8 positions), two context turns (35), one turn (20), longer
    /// text (14).
    static let prompts: [GenerationPrompt] = {
        let cases = Fixture.expected.cases
        let short = cases[0].prompt, withContext = cases[1].prompt
        let oneTurn = GenerationPrompt(context: Array(withContext.context.prefix(1)), textIds: withContext.textIds)
        let longText = GenerationPrompt(textIds: Array(short.textIds.dropLast() + withContext.textIds.dropFirst()))
        return [short, withContext, oneTurn, longText]
    }()

    static func settings(_ s: Sampling) -> GenerationSettings { GenerationSettings(backbone: s, depthDecoder: s) }

    /// What `Generator` makes of `prompt` alone.
    static func alone(_ model: CSMForConditionalGeneration, _ prompt: GenerationPrompt, _ options: Options) throws -> [[Int]] {
        try Generator(model: model).generate(prompt, options: options).frames
    }

    /// Steps until every row has left; each row's frames by id.
    static func runToEnd(_ batch: BatchGenerator, into frames: inout [BatchGenerator.RowID: [[Int]]]) throws {
        while batch.activeCount > 0 { try collect(batch.step(), into: &frames) }
    }

    static func collect(_ events: [BatchGenerator.RowID: BatchGenerator.FrameEvent],
                        into frames: inout [BatchGenerator.RowID: [[Int]]]) {
        for (id, event) in events { frames[id, default: []].append(event.codes) }
    }

    @Test func greedyRowsEqualEachAlone() throws {
        let model = try Fixture.model()
        #expect(Set(Self.prompts.map(\.length)) == [8, 35, 20, 14])
        let options = Options(maxFrames: 16, settings: Self.settings(.greedy))
        let batch = try BatchGenerator(model: model, maxRows: 4)
        let ids = try Self.prompts.map { try batch.join($0, options: options) }
        #expect(batch.activeCount == 4 && batch.activeRows == ids && batch.freeRows == 0)
        var frames: [BatchGenerator.RowID: [[Int]]] = [:]
        try Self.runToEnd(batch, into: &frames)
        for (id, prompt) in zip(ids, Self.prompts) {
            #expect(frames[id] == (try Self.alone(model, prompt, options)), "prompt of \(prompt.length) positions")
        }
    }

    /// The two fixture prompts batched give transformers' frames (top-k 1 = argmax; GenerationParityTests checks the
    /// margins of these frames).
    @Test func batchedRowsEqualTransformers() throws {
        let model = try Fixture.model()
        let e = Fixture.expected
        let options = Options(maxFrames: e.max_new_tokens,
                              settings: Self.settings(Sampling(doSample: true, temperature: e.temperature, topK: e.top_k)),
                              seed: 7)
        let batch = try BatchGenerator(model: model, maxRows: 2)
        let ids = try e.cases.map { try batch.join($0.prompt, options: options) }
        var frames: [BatchGenerator.RowID: [[Int]]] = [:]
        try Self.runToEnd(batch, into: &frames)
        for (id, c) in zip(ids, e.cases) { #expect(frames[id] == c.frames, "\(c.name)") }
    }

    /// Each row samples with its own settings and seed: the same codes as alone, and unlike the greedy path.
    @Test func sampledRowsEqualEachAlone() throws {
        let model = try Fixture.model()
        let rows: [(Sampling, UInt64, Int)] = [(Sampling(doSample: true, temperature: 1.0, topK: 20), 1, 14),
                                               (.csmDefault, 2, 12), (Sampling(doSample: true, temperature: 0.7, topK: 5), 3, 16),
                                               (.greedy, 4, 10)]
        let batch = try BatchGenerator(model: model, maxRows: 4)
        let options = rows.map { Options(maxFrames: $0.2, settings: Self.settings($0.0), seed: $0.1) }
        let ids = try zip(Self.prompts, options).map { try batch.join($0, options: $1) }
        var frames: [BatchGenerator.RowID: [[Int]]] = [:]
        try Self.runToEnd(batch, into: &frames)
        for (i, id) in ids.enumerated() {
            let alone = try Self.alone(model, Self.prompts[i], options[i])
            #expect(frames[id] == alone, "row \(i)")
            #expect(frames[id]?.count == rows[i].2)
        }
        let greedy = try Self.alone(model, Self.prompts[0], Options(maxFrames: 14, settings: Self.settings(.greedy)))
        #expect(frames[ids[0]] != greedy, "top-k 20 sampling leaves the argmax path")
    }

    /// Rows join after others have started, one is cancelled mid-way and its row is reused, rows end at different
    /// frames: nobody's codes change.
    @Test func joiningAndCancellingMidwayLeaveOthersAlone() throws {
        let model = try Fixture.model()
        let sampled = Self.settings(Sampling(doSample: true, temperature: 1.0, topK: 20))
        let a = Options(maxFrames: 20, settings: sampled, seed: 1)
        let b = Options(maxFrames: 20, settings: Self.settings(.greedy))
        let c = Options(maxFrames: 8, settings: sampled, seed: 3)
        let d = Options(maxFrames: 10, settings: sampled, seed: 4)
        let batch = try BatchGenerator(model: model, maxRows: 3)
        var frames: [BatchGenerator.RowID: [[Int]]] = [:]
        let idA = try batch.join(Self.prompts[1], options: a)
        let idB = try batch.join(Self.prompts[0], options: b)
        for _ in 0..<3 { Self.collect(try batch.step(), into: &frames) }
        let idC = try batch.join(Self.prompts[2], options: c)
        for _ in 0..<2 { Self.collect(try batch.step(), into: &frames) }
        #expect(try batch.cancel(idB))
        #expect(try !batch.cancel(idB))
        #expect(batch.activeRows == [idA, idC])
        Self.collect(try batch.step(), into: &frames)
        let idD = try batch.join(Self.prompts[3], options: d)  // into the row B left (its stale slots past D's prompt)
        #expect(throws: GenerationError.self) { try batch.join(Self.prompts[0], options: b) }
        try Self.runToEnd(batch, into: &frames)
        #expect(frames[idA] == (try Self.alone(model, Self.prompts[1], a)))
        #expect(frames[idB] == Array(try Self.alone(model, Self.prompts[0], b).prefix(5)))
        #expect(frames[idC] == (try Self.alone(model, Self.prompts[2], c)))
        #expect(frames[idD] == (try Self.alone(model, Self.prompts[3], d)))
        #expect(frames[idC]?.count == 8 && frames[idD]?.count == 10 && frames[idA]?.count == 20)
    }

    /// Every cache slot is first filled with 1e4: a row attending a slot that is not its own (padding up to the
    /// longest row, or a freed row's leftovers) would be swamped by it. The mask keeps the codes those alone.
    @Test func slotsOutsideARowAreNeverAttended() throws {
        let model = try Fixture.model()
        let options = Options(maxFrames: 12, settings: Self.settings(.greedy))
        let batch = try BatchGenerator(model: model, maxRows: 3)
        for layer in batch.caches.layers { try layer.keys.fill_(1e4); try layer.values.fill_(1e4) }
        let prompts = [Self.prompts[0], Self.prompts[1], Self.prompts[3]]  // 8, 35, 14 positions
        let ids = try prompts.map { try batch.join($0, options: options) }
        // The first step attends 36 slots of every row: the short rows' slots past their prompt hold the poison.
        let keys = batch.caches.layers[0].keys
        #expect(try keys.select(0, 0).narrow(1, 8, 28).eq(1e4).all().item() == 1)
        #expect(try keys.select(0, 0).narrow(1, 0, 8).ne(1e4).all().item() == 1)
        var frames: [BatchGenerator.RowID: [[Int]]] = [:]
        try Self.runToEnd(batch, into: &frames)
        for (id, prompt) in zip(ids, prompts) {
            #expect(frames[id] == (try Self.alone(model, prompt, options)), "prompt of \(prompt.length) positions")
        }
    }

    /// One read back to the host per frame for the whole batch, and nothing built from host values while no row joins
    /// or leaves.
    @Test func oneHostReadPerFrameForAllRows() throws {
        let model = try Fixture.model()
        let batch = try BatchGenerator(model: model, maxRows: 3)
        let options = Options(maxFrames: 20, settings: Self.settings(.csmDefault), seed: 5)
        for prompt in Self.prompts.prefix(3) { _ = try batch.join(prompt, options: options) }
        let (_, counted) = try HostTransfers.counting { for _ in 0..<8 { _ = try batch.step() } }
        #expect(counted.reads == 8)
        #expect(counted.fromHost == 0)
    }

    @Test func endOfAudioEndsEachRow() throws {
        let model = try Fixture.model()
        let lmHead = try #require(model.lmHead as? Linear)
        lmHead.weight = try Tensor.zeros(lmHead.weight.shape)
        model.depthDecoder.codebooksHead.weight = try Tensor.zeros(model.depthDecoder.codebooksHead.weight.shape)
        let batch = try BatchGenerator(model: model, maxRows: 2)
        let options = Options(maxFrames: 10, settings: Self.settings(.greedy))
        let ids = try Self.prompts.prefix(2).map { try batch.join($0, options: options) }
        let events = try batch.step()
        for id in ids {
            #expect(events[id] == BatchGenerator.FrameEvent(codes: [0, 0, 0, 0], isEndOfAudio: true, isLast: true))
            #expect(events[id]?.isAudio == false)
        }
        #expect(batch.activeCount == 0)
        #expect(try batch.step().isEmpty)
    }

    /// Limits and bad settings fail before anything runs, with errors that say what to change.
    @Test func limitsGiveClearErrors() throws {
        let model = try Fixture.model()  // max_position_embeddings 256
        let options = Options(maxFrames: 10, settings: Self.settings(.greedy))
        #expect(throws: GenerationError.self) { try BatchGenerator(model: model, maxRows: 0) }
        #expect(throws: GenerationError.self) { try BatchGenerator(model: model, maxRows: 1, maxPositions: 257) }
        let batch = try BatchGenerator(model: model, maxRows: 1, maxPositions: 40)
        #expect(batch.maxPositions == 40)
        do {
            _ = try batch.join(Self.prompts[1], options: options)  // 35 + 10 - 1 > 40
            Issue.record("expected exceedsBatchPositions")
        } catch let error as GenerationError {
            #expect(error.description.contains("44 > 40") && error.description.contains("maxPositions"))
        }
        #expect(throws: GenerationError.self) {
            try batch.join(Self.prompts[0], options: Options(maxFrames: 250, settings: options.settings))
        }
        #expect(throws: GenerationError.self) {
            try batch.join(Self.prompts[0], options: Options(maxFrames: 0, settings: options.settings))
        }
        #expect(batch.activeCount == 0)
        let id = try batch.join(Self.prompts[1], options: Options(maxFrames: 6, settings: options.settings))
        do {
            _ = try batch.join(Self.prompts[0], options: options)
            Issue.record("expected batchFull")
        } catch let error as GenerationError {
            #expect(error.description.contains("all 1 rows") && error.description.contains("maxRows"))
        }
        #expect(try batch.cancel(id) && batch.activeCount == 0)
        _ = try batch.join(Self.prompts[0], options: options)  // the freed row takes a new request
        #expect(batch.activeCount == 1)
    }
}
