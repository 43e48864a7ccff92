import ArgumentParser
import Foundation
import Hub
import Tokenizer

/// `csm tokenize`: the ids `tokenizer(text)` gives in transformers (with the template's bos/eos), as JSON.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text as JSON.",
        discussion: "Ids include the tokenizer's post-processor template (bos/eos for CSM), as tokenizer(text) does."
    )

    @Option(name: [.customLong("model_id"), .customLong("model-id")],
            help: "Model folder or Hugging Face hub id holding tokenizer.json.")
    var modelId: String = "unsloth/csm-1b"

    @Option(help: "The text to tokenize.")
    var text: String

    func run() throws {
        // Only the tokenizer files are needed, so a hub id does not pull the weights.
        let folder = try resolveModel(modelId, files: ["tokenizer.json"],
                                      optional: ["tokenizer_config.json", "special_tokens_map.json"])
        let tokenizer = try Tokenizer(folder: folder)
        let ids = tokenizer.encode(text, addSpecialTokens: true)
        print("[" + ids.map(String.init).joined(separator: ", ") + "]")
    }
}
