import ArgumentParser
import CSM
import Foundation
import Hub
import Torch

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a LoRA adapter into its base model and write a full Hugging Face model folder.",
        discussion: """
            Each adapted weight becomes W + (alpha/r)·B·A, computed in float32 and stored in the base's dtype \
            (bf16 stays bf16). The folder holds model.safetensors (with the base's codec weights), config.json and \
            the tokenizer/processor/generation files; transformers' CsmForConditionalGeneration.from_pretrained \
            and `csm generate --model_id` load it without the adapter.
            """
    )

    @Option(name: [.customLong("model_id"), .customLong("model-id")], help: "Base model folder or Hugging Face hub id.")
    var modelId: String = "unsloth/csm-1b"

    @Option(help: "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors).")
    var adapter: String

    @Option(help: "Folder to write the merged model to.")
    var output: String

    /// Where W + (alpha/r)·B·A is computed (in float32 whatever the device; the file holds the same dtype).
    @OptionGroup var placement: DeviceOptions

    func run() throws {
        let device = try placement.resolve()
        let base = try ModelLocator.resolve(modelId)
        let out = URL(fileURLWithPath: output)
        try OutputPath.checkFolder(output, flag: "--output", notSameAs: base, what: "the base model folder")
        // Stored dtype, on --device; written back from there.
        let model = try CSMForConditionalGeneration.load(folder: base, device: device)
        let lora = try PEFTAdapter.load(URL(fileURLWithPath: adapter), into: model)
        let merged = model.loraAdapters.count
        try model.mergeLoRA()
        try FullModel.save(model, baseFolder: base, to: out)
        print("merged \(merged) LoRA adapters (r=\(lora.rank), alpha=\(lora.alpha)) into \(modelId) "
            + "(\(model.dtype)) → \(out.path)")
    }
}
