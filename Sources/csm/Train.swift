import ArgumentParser

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune CSM (LoRA, QLoRA or full) on a preprocessed dataset."
    )

    func run() throws {
        throw NotImplemented(command: "train")
    }
}
