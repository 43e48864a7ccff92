import ArgumentParser

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text as JSON."
    )

    func run() throws {
        throw NotImplemented(command: "tokenize")
    }
}
