import Foundation
import Testing
@testable import Torch
import TestSupport

private let fixtures = fixturesFolder.appendingPathComponent("safetensors")

@Suite struct SafetensorsTests {
    @Test func readsEveryDtypeWrittenByPython() throws {
        let tensors = try Safetensors.read(fixtures.appendingPathComponent("mixed.safetensors"))
        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: fixtures.appendingPathComponent("mixed.json"))) as! [String: [String: Any]]
        #expect(Set(tensors.keys) == Set(expected.keys))
        let dtypes: [String: DType] = ["f32": .f32, "f16": .f16, "bf16": .bf16, "i64": .i64, "i32": .i32,
                                       "i16": .i16, "u8": .u8, "bool": .bool, "scalar": .f32]
        for (name, info) in expected {
            let t = try #require(tensors[name])
            #expect(t.shape == info["shape"] as! [Int], "\(name)")
            #expect(t.dtype == dtypes[name], "\(name)")
            // Every stored value is exactly representable as a Float; JSON parsing of the
            // Python repr may be off in the last double bits, so compare at Float precision.
            #expect(try t.toArray(Float.self) == (info["values"] as! [Double]).map(Float.init), "\(name)")
        }
    }

    @Test func loadsShardedBF16FolderWrittenByTransformers() throws {
        let store = try WeightStore(folder: fixtures.appendingPathComponent("sharded_bf16"))
        let expected = try WeightStore(files: [fixtures.appendingPathComponent("expected_f32.safetensors").path])
        #expect(store.keys == expected.keys)
        #expect(store.keys.count > 10)
        for key in expected.keys {
            let got = try store.tensor(key)
            #expect(got.dtype == .bf16, "\(key)")
            #expect(try got.to(.f32).toArray(Float.self) == expected.tensor(key).toArray(Float.self), "\(key)")
        }
    }

    @Test func roundTripsAllDtypesAndMetadata() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        var tensors: [String: Tensor] = [:]
        for dtype in DType.allCases {
            tensors["t_\(dtype)"] = try Tensor.arange(0, 12, dtype: .f32).reshape(3, 4).to(dtype)
        }
        tensors["empty"] = try Tensor.zeros([0, 3])
        let url = dir.appendingPathComponent("x.safetensors")
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: url)
        let file = try SafetensorsFile(path: url.path)
        #expect(file.metadata == ["format": "pt"])
        #expect(Set(file.keys) == Set(tensors.keys))
        for (name, t) in tensors {
            let back = try file.tensor(name)
            #expect(back.dtype == t.dtype && back.shape == t.shape, "\(name)")
            #expect(try back.bytes() == t.bytes(), "\(name)")
        }
        // Only the final file is left behind: no temporary siblings.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.safetensors"])
    }

    @Test func borrowedTensorsOutliveTheirFileObject() throws {
        let t: Tensor = try {
            let file = try SafetensorsFile(path: fixtures.appendingPathComponent("mixed.safetensors").path)
            return try file.tensor("f32")
        }()
        #expect(try t.sum().item().isFinite)
        // Writing into a borrowed tensor touches a private copy, never the file.
        try t.fill_(7)
        let again = try Safetensors.read(fixtures.appendingPathComponent("mixed.safetensors"))["f32"]!
        #expect(try again.toArray(Float.self).allSatisfy { $0 != 7 })
    }

    @Test func corruptFilesGiveClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-bad-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, Data)] = [
            ("short.safetensors", Data([1, 2, 3])),
            ("huge-header.safetensors", Data([0xff, 0xff, 0, 0, 0, 0, 0, 0]) + Data(repeating: 0x20, count: 16)),
            ("not-json.safetensors", Data([8, 0, 0, 0, 0, 0, 0, 0]) + Data("nonsense".utf8)),
        ]
        for (name, bytes) in cases {
            let url = dir.appendingPathComponent(name)
            try bytes.write(to: url)
            #expect {
                _ = try SafetensorsFile(path: url.path)
            } throws: { error in
                "\(error)".contains(name)
            }
        }
        #expect(throws: SafetensorsError.self) {
            _ = try SafetensorsFile(path: dir.appendingPathComponent("missing.safetensors").path)
        }
        #expect {
            _ = try WeightStore(folder: dir)
        } throws: { error in
            "\(error)".contains("no model.safetensors")
        }
    }

    @Test func varBuilderChecksShapesAndNamesMissingKeys() throws {
        let store = WeightStore(["model.layers.0.weight": try Tensor.ones([2, 3])])
        let vb = VarBuilder(store: store, dtype: .f64)
        let w = try vb.pp("model").pp("layers").pp(0).get("weight", shape: [2, 3])
        #expect(w.dtype == .f64)
        #expect(vb.parameters.names == ["model.layers.0.weight"])
        #expect { try vb.pp("model").get("missing") } throws: { "\($0)".contains("model.missing") }
        #expect { try vb.pp("model.layers.0").get("weight", shape: [3, 2]) } throws: { "\($0)".contains("[3, 2]") }
    }
}
