import CSM
import Torch

extension TrainConfig {
    /// `--base_dtype` and `--recompute_mlp` applied to a freshly loaded model, before LoRA attaches (what
    /// `csm train` and the training benchmark both do). Data-parallel runs keep the MLP activations: DDP's
    /// reducer looks for unused parameters by walking the graph before backward, and would find the ones a
    /// recomputed MLP uses unreached, then see their gradients arrive anyway (torch has the same limit for
    /// reentrant checkpointing).
    public func applyMemorySettings(to model: CSMForConditionalGeneration, device: Device, distributed: Bool = false,
                                    log: (String) -> Void) throws {
        if !fullFinetune && !loadIn4bit && (baseDtype ?? "bf16") == "bf16" {
            let product = FrozenProduct.fastest(on: device)
            let saved = try model.storeDecoderLayers(as: .bf16, product: product)
            log("[train] frozen decoder-layer weights in bf16, \(product) products (\(saved / 1_000_000) MB saved)")
        }
        if distributed && recomputeMlp != "none" {
            log("[train] --recompute_mlp \(recomputeMlp) is not available with several processes; keeping MLP activations")
            model.recomputeMLPs(backbone: false, depthDecoder: false)
            return
        }
        model.recomputeMLPs(backbone: recomputeMlp == "all", depthDecoder: recomputeMlp != "none")
    }
}
