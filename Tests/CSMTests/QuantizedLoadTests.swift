import Foundation
import Testing
import Torch
@testable import CSM
import TestSupport

/// `load(folder:dtype:device:quantization:)`: the projections quantized straight from the stored weights, every
/// other weight in `dtype`.
@Suite struct QuantizedLoadTests {
    /// In f32 it is `load` then `quantizeProjections`: the same codes, so the same logits.
    @Test(arguments: [WeightQuantization.int8, .int4(groupSize: 32)])
    func sameAsQuantizingAfterTheLoad(scheme: WeightQuantization) throws {
        let (model, report) = try CSMForConditionalGeneration.load(folder: Fixture.tiny, dtype: .f32, quantization: scheme)
        let after = try CSMForConditionalGeneration.load(folder: Fixture.tiny, dtype: .f32)
        let reportAfter = try after.quantizeProjections(scheme)
        #expect(report.quantized == reportAfter.quantized && report.skipped == reportAfter.skipped)
        let a = try QuantizationFidelityTests.logits(model, Fixture.samples)
        let b = try QuantizationFidelityTests.logits(after, Fixture.samples)
        #expect(try (a.backbone - b.backbone).abs().max().item() == 0 && (a.depth - b.depth).abs().max().item() == 0)
    }

    /// In bf16 every floating weight left dense (norms, embeddings, heads, the projections the int4 kernel cannot
    /// take) is bf16, and the model generates.
    @Test(arguments: [WeightQuantization.int8, .int4(groupSize: 32)])
    func otherWeightsInTheRequestedDType(scheme: WeightQuantization) throws {
        let (model, report) = try CSMForConditionalGeneration.load(folder: Fixture.tiny, dtype: .bf16, quantization: scheme)
        #expect(report.quantized > 0)
        let dense = model.namedParameters.map { ($0.name, $0.get()) }.filter { $0.1.dtype.isFloatingPoint }
        #expect(!dense.isEmpty)
        for (name, tensor) in dense { #expect(tensor.dtype == .bf16, "\(name) is \(tensor.dtype)") }
        let output = try Generator(model: model).generate(
            GenerationPrompt(textIds: [1, 2, 3]), options: .init(maxFrames: 3, settings: GenerationSettings(), seed: 0))
        #expect(output.frames.count == 3)
    }
}
