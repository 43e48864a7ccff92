import ArgumentParser
import Foundation

@main
struct CSM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csm",
        abstract: "Fine-tune the Sesame CSM-1B speech model on your own dialogue recordings, and speak with it.",
        subcommands: [
            Preprocess.self, Train.self, Generate.self, ServeCommand.self, Merge.self, Quantize.self, Eval.self, Tokenize.self,
            Encode.self,
        ]
    )
}
