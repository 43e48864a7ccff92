import Foundation
import Testing
@testable import Hub

@Suite struct ModelIDTests {
    @Test func modelIDsParseLikeHuggingFaceHub() throws {
        let plain = try RepoID(parsing: "sesame/csm-1b")
        #expect(plain.id == "sesame/csm-1b" && plain.revision == "main")
        #expect(plain.folderName == "models--sesame--csm-1b")
        let pinned = try RepoID(parsing: "sesame/csm-1b@\(commitA)")
        #expect(pinned.revision == commitA && pinned.revisionIsCommit)
        #expect(try !RepoID(parsing: "org/x@v1.0").revisionIsCommit)
        #expect(try RepoID(parsing: "gpt2").folderName == "models--gpt2")
        for bad in ["a/b/c", "org/-x", "org/x.", "org--x/y", "org/x@", "org/x@../y", "", "org/ x"] {
            #expect(throws: HubError.self, "\(bad)") { try RepoID(parsing: bad) }
        }
    }

    @Test func anExistingFolderIsUsedAsIsAndAMissingPathIsNotTakenForAHubID() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        // No configuration needed, no network: the folder is returned as given.
        #expect(try resolveModel(temp.url.path, files: ["config.json"]).path == temp.url.standardizedFileURL.path)
        #expect(throws: HubError.localFolderNotFound(temp.url.path + "/missing")) {
            try resolveModel(temp.url.path + "/missing", files: ["config.json"])
        }
        #expect(throws: HubError.localFolderNotFound("./checkpoints/run1")) {
            try resolveModel("./checkpoints/run1", files: ["config.json"])
        }
    }

    @Test func fileNamesMustStayInsideTheSnapshot() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        let configuration = HubConfiguration(cacheDirectory: temp.url, offline: true, progress: .silent)
        for bad in ["../x", "/etc/passwd", "a//b", "a/./b", ""] {
            #expect(throws: HubError.invalidFileName(bad)) {
                try resolveModel("org/tiny", files: ["config.json"], optional: [bad], configuration: configuration)
            }
        }
        let file = temp.url.appendingPathComponent("weights.bin")
        try Data().write(to: file)
        #expect(throws: HubError.notAFolder(file.path)) { try resolveModel(file.path, files: ["config.json"]) }
    }
}
