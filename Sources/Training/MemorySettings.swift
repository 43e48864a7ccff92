import CSM
import Torch

extension TrainConfig {
    /// `--base_dtype` and `--recompute_mlp` applied to a freshly loaded model, before LoRA attaches (what
    /// `csm train` and the training benchmark both do).
    public func applyMemorySettings(to model: CSMForConditionalGeneration, device: Device,
                                    log: (String) -> Void) throws {
        if !self.fullFinetune && !self.loadIn4bit && (self.baseDtype ?? "bf16") == "bf16" {
            let product = FrozenProduct.fastest(on: device)
            let saved = try model.storeDecoderLayers(as: .bf16, product: product)
            log("[train] frozen decoder-layer weights in bf16, \(product) products (\(saved / 1_000_000) MB saved)")
        }
        model.recomputeMLPs(backbone: self.recomputeMlp == "all", depthDecoder: self.recomputeMlp != "none")
    }
}
