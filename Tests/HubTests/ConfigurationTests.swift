import Foundation
import Testing
@testable import Hub

@Suite struct ConfigurationTests {
    let home = ["HOME": "/home/u"]

    @Test func theCacheFolderFollowsHuggingFaceHubPrecedence() throws {
        func cache(_ env: [String: String]) throws -> String {
            try HubConfiguration.fromEnvironment(home.merging(env) { $1 }).cacheDirectory.path
        }
        #expect(try cache([:]) == "/home/u/.cache/huggingface/hub")
        #expect(try cache(["XDG_CACHE_HOME": "/xdg"]) == "/xdg/huggingface/hub")
        #expect(try cache(["XDG_CACHE_HOME": "/xdg", "HF_HOME": "/hf"]) == "/hf/hub")
        #expect(try cache(["HF_HOME": "~/hf"]) == "/home/u/hf/hub")
        #expect(try cache(["HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/legacy"]) == "/legacy")
        #expect(try cache(["HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/legacy", "HF_HUB_CACHE": "/c"]) == "/c")
    }

    @Test func offlineEndpointAndTimeoutsComeFromTheEnvironment() throws {
        for value in ["1", "true", "YES", "on"] {
            #expect(try HubConfiguration.fromEnvironment(home.merging(["HF_HUB_OFFLINE": value]) { $1 }).offline)
        }
        for value in ["0", "false", "no", ""] {
            #expect(try !HubConfiguration.fromEnvironment(home.merging(["HF_HUB_OFFLINE": value]) { $1 }).offline)
        }
        #expect(try HubConfiguration.fromEnvironment(home.merging(["TRANSFORMERS_OFFLINE": "1"]) { $1 }).offline)

        let defaults = try HubConfiguration.fromEnvironment(home)
        #expect(defaults.endpoint.absoluteString == "https://huggingface.co")
        #expect(defaults.metadataTimeout == 10 && defaults.downloadTimeout == 10)
        let custom = try HubConfiguration.fromEnvironment(home.merging([
            "HF_ENDPOINT": "https://hf-mirror.example/", "HF_HUB_DOWNLOAD_TIMEOUT": "60",
        ]) { $1 })
        #expect(custom.endpoint.absoluteString == "https://hf-mirror.example")
        #expect(custom.downloadTimeout == 60)
        #expect(defaults.progress == .automatic)
        #expect(try HubConfiguration.fromEnvironment(["HF_HUB_DISABLE_PROGRESS_BARS": "1"]).progress == .silent)

        #expect(throws: HubError.self) { try HubConfiguration.fromEnvironment(["HF_ENDPOINT": "hf-mirror.example"]) }
        #expect(throws: HubError.self) { try HubConfiguration.fromEnvironment(["HF_HUB_ETAG_TIMEOUT": "soon"]) }
    }

    @Test func theTokenComesFromHFTokenElseTheLoginFile() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanUp() }
        try Data("hf_from_file\n".utf8).write(to: temp.url.appendingPathComponent("token"))
        #expect(try HubConfiguration.fromEnvironment(["HF_HOME": temp.url.path]).token == "hf_from_file")
        #expect(try HubConfiguration.fromEnvironment(["HF_HOME": temp.url.path, "HF_TOKEN": "hf_env"]).token == "hf_env")
        #expect(try HubConfiguration.fromEnvironment(["HF_HOME": temp.url.appendingPathComponent("none").path]).token
                    == nil)
    }
}
