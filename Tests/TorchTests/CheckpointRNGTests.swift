import Testing
@testable import Torch

/// `checkpoint` reruns its body in backward; dropout there must draw forward's masks from every generator
/// the body used (torch.utils.checkpoint's preserve_rng_state), or the gradients are silently wrong. On a
/// GPU that is the device's generator; a CPU shows the same mechanism with a second CPU generator.
/// Serialized: seeds libtorch's default generator.
@Suite(.serialized) struct CheckpointRNGTests {
    struct Run: Equatable {
        var gradient: [Float]
        /// The next draws of both generators after backward: the recomputation must not shift them.
        var after: [Float]
    }

    func run(checkpointed: Bool, preserving: Bool) throws -> Run {
        Runtime.manualSeed(5)
        let own = try TorchGenerator(seed: 11)
        let x = try Tensor((0..<256).map { Float($0) / 256 + 0.5 }).requiresGrad(true)
        let body: (Tensor) throws -> Tensor = { x in
            try (x * 3.0).dropout(0.5, training: true, generator: own).dropout(0.3, training: true)
        }
        let y = checkpointed ? try checkpoint(x, preserving: preserving ? [own] : [], body) : try body(x)
        // The rest of a step draws from both generators before backward.
        _ = try Tensor.rand([100])
        _ = try Tensor.ones([100]).dropout(0.5, training: true, generator: own)
        try y.sum().backward()
        let after = try Tensor.rand([8]).toArray(Float.self)
            + Tensor.ones([8]).dropout(0.5, training: true, generator: own).toArray(Float.self)
        let gradient = try x.grad
        return Run(gradient: try #require(gradient).toArray(Float.self), after: after)
    }

    @Test func recomputationDrawsForwardsMasksFromEveryGenerator() throws {
        let reference = try run(checkpointed: false, preserving: false)
        #expect(Set(reference.gradient).count > 1, "dropout masked nothing")
        #expect(try run(checkpointed: true, preserving: true) == reference)
        // Control: with its own generator left out, the recomputation draws other masks (so the equality
        // above is what restoring that generator buys).
        #expect(try run(checkpointed: true, preserving: false).gradient != reference.gradient)
    }

    @Test func dropoutWithAGeneratorRepeatsWithItsSeed() throws {
        let a = try Tensor.ones([64]).dropout(0.5, training: true, generator: TorchGenerator(seed: 3)).toArray(Float.self)
        let b = try Tensor.ones([64]).dropout(0.5, training: true, generator: TorchGenerator(seed: 3)).toArray(Float.self)
        #expect(a == b && Set(a) == [0, 2])
        // Drawing from its own generator leaves the default one alone.
        Runtime.manualSeed(9)
        let plain = try Tensor.rand([4]).toArray(Float.self)
        Runtime.manualSeed(9)
        _ = try Tensor.ones([64]).dropout(0.5, training: true, generator: TorchGenerator(seed: 3))
        #expect(try Tensor.rand([4]).toArray(Float.self) == plain)
    }
}
