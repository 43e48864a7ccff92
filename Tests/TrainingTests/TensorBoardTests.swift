import Foundation
import Testing
@testable import Training
import TestSupport

private let fixtures = fixturesFolder.appendingPathComponent("tensorboard")

@Suite struct TensorBoardTests {
    @Test func readsEventsWrittenByPyTorch() throws {
        let scalars = try TensorBoardReader.scalars(in: fixtures.appendingPathComponent("events.out.tfevents.python"))
        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: fixtures.appendingPathComponent("expected.json"))) as! [[String: Any]]
        #expect(scalars.count == expected.count)
        for (got, want) in zip(scalars, expected) {
            #expect(got.step == want["step"] as! Int)
            #expect(got.tag == want["tag"] as! String)
            #expect(got.value == Float(want["value"] as! Double))
        }
    }

    @Test func writtenEventsReadBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try TensorBoardWriter(logDir: dir)
        for step in 1 ... 3 {
            try writer.scalars([("train/loss", 1.0 / Double(step)), ("train/lr", 1e-4)], step: step)
        }
        try writer.flush()
        let back = try TensorBoardReader.scalars(in: writer.url)
        #expect(back.count == 6)
        #expect(back.first == .init(step: 1, tag: "train/loss", value: 1))
        #expect(back.last == .init(step: 3, tag: "train/lr", value: Float(1e-4)))
    }

    @Test func corruptionIsDetected() throws {
        var bytes = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("events.out.tfevents.python")))
        bytes[bytes.count - 6] ^= 0xff
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tb-corrupt-\(UUID())")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect { try TensorBoardReader.scalars(in: url) } throws: { "\($0)".contains("checksum") }
    }

    @Test func crc32cKnownAnswer() {
        // RFC 3720 test vector: 32 bytes of zeros.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }
}
