import Foundation

/// The repository's root, found from this file's path so tests run from any directory.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Tests/Fixtures: the committed files tools/fixtures/*.py write; each test target reads its own subfolder.
public let fixturesFolder = repositoryRoot.appendingPathComponent("Tests/Fixtures")
