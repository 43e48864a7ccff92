import CSM
import Torch

extension TrainConfig {
    /// `--base_dtype`, `--mixed_precision` and `--recompute_mlp` applied to a freshly loaded model, before
    /// LoRA attaches (what `csm train` and the training benchmark both do).
    public func applyMemorySettings(to model: CSMForConditionalGeneration, device: Device,
                                    log: (String) -> Void) throws {
        if !self.fullFinetune && !self.loadIn4bit && (self.baseDtype ?? "bf16") == "bf16" {
            let product = FrozenProduct.fastest(on: device)
            let saved = try model.storeDecoderLayers(as: .bf16, product: product)
            log("[train] frozen decoder-layer weights in bf16, \(product) products (\(saved / 1_000_000) MB saved)")
        }
        let compute = computeDType(on: device)
        model.setComputeDType(compute)
        log("[train] \(compute == .bf16 ? "bf16" : "f32") compute (--mixed_precision \(self.mixedPrecision))")
        model.recomputeMLPs(backbone: self.recomputeMlp == "all", depthDecoder: self.recomputeMlp != "none")
    }

    /// `--mixed_precision` on `device`: bf16, or nil for f32 compute. `auto` takes bf16 only where it is
    /// faster: where bf16 products are emulated (AVX2-only CPUs, MPS) they cost more than f32 ones.
    public func computeDType(on device: Device) -> DType? {
        switch self.mixedPrecision {
        case "bf16": return .bf16
        case "no": return nil
        default: return device.hasBF16Arithmetic && self.baseDtype != "f32" ? .bf16 : nil
        }
    }
}
