import ArgumentParser

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Mean loss of a model or adapter on a preprocessed dataset, as JSON."
    )

    func run() throws {
        throw NotImplemented(command: "eval")
    }
}
