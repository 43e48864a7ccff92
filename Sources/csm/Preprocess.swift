import ArgumentParser

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Turn a folder of conversations (wavs + scripts) into tokenized training samples."
    )

    func run() throws {
        throw NotImplemented(command: "preprocess")
    }
}
