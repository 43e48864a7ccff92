import ArgumentParser

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Print the Mimi codes of an audio file as JSON (frames × codebooks)."
    )

    func run() throws {
        throw NotImplemented(command: "encode")
    }
}
