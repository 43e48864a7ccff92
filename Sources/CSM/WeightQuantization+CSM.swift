import Torch

/// What `quantizeProjections` did.
public struct ProjectionQuantizationReport: Sendable {
    public var quantized = 0
    /// Projections whose shape the scheme's kernel does not take (int4: out not a multiple of 16, in not
    /// a multiple of the group size); they stay dense.
    public var skipped: [String] = []
    /// Weight bytes before and after, over the quantized projections.
    public var bytesBefore = 0
    public var bytesAfter = 0
}

extension CSMForConditionalGeneration {
    /// The projections `quantizeProjections` takes, by path (`backbone_model.layers.3.mlp.up_proj`): those of the
    /// decoder layers.
    static func isQuantizable(projection path: String) -> Bool { path.contains(".layers.") }

    /// Inference-only weight quantization of the backbone's and the depth decoder's decoder-layer
    /// projections (q, k, v, o, gate, up, down; nearly all the weights), under any LoRA wrapper already there.
    /// Embeddings, norms, `lm_head`, the codebook heads and the depth decoder's input projector stay as they
    /// are (as `load_in_4bit`/torchao's defaults leave the output heads). Dense layers only; frozen or
    /// already-quantized ones are left alone.
    @discardableResult
    public func quantizeProjections(_ scheme: WeightQuantization) throws -> ProjectionQuantizationReport {
        var report = ProjectionQuantizationReport()
        if case .int4 = scheme, let first = linearSlots.first, first.layer.device != .cpu {
            throw TorchError("--quantize int4 runs on CPU only (libtorch's int4 CPU kernel); the model is on "
                + "\(first.layer.device): use --device cpu or --quantize int8")
        }
        for slot in linearSlots where Self.isQuantizable(projection: slot.path) {
            guard let dense = slot.base as? Linear else { continue }
            guard scheme.supports(outFeatures: dense.outFeatures, inFeatures: dense.inFeatures) else {
                report.skipped.append(slot.path)
                continue
            }
            let before = dense.weight.count * dense.weight.dtype.byteSize
            let q = try scheme.quantize(dense)
            slot.base = q
            report.quantized += 1
            report.bytesBefore += before
            report.bytesAfter += (q as? Int8Linear)?.byteCount ?? (q as? Int4Linear)?.byteCount ?? before
        }
        return report
    }
}
