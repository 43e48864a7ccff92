import ArgumentParser

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Speak a line of text with a base or fine-tuned model."
    )

    func run() throws {
        throw NotImplemented(command: "generate")
    }
}
