import ArgumentParser

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a LoRA adapter into its base model and write a full Hugging Face model folder."
    )

    func run() throws {
        throw NotImplemented(command: "merge")
    }
}
