import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors reading or writing safetensors files and weight folders.
public enum SafetensorsError: Error, CustomStringConvertible {
    case cannotOpen(String, String)
    case malformed(String, String)
    case missingTensor(String, String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let why): return "\(path): cannot open (\(why))"
        case .malformed(let path, let why): return "\(path): not a valid safetensors file (\(why))"
        case .missingTensor(let key, let source): return "\(source): has no tensor named '\(key)'"
        }
    }
}

/// A read-only memory map of a whole file; unmapped when the last tensor borrowing it is gone.
final class MappedFile {
    let base: UnsafeRawPointer
    let size: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafetensorsError.cannotOpen(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SafetensorsError.cannotOpen(path, String(cString: strerror(errno))) }
        size = Int(info.st_size)
        guard size >= 8 else { throw SafetensorsError.malformed(path, "only \(size) bytes") }
        // Private, writable mapping: pages are shared with the page cache until something writes
        // (e.g. merging LoRA into a base weight in place), which then gets a private copy.
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw SafetensorsError.cannotOpen(path, String(cString: strerror(errno))) }
        base = UnsafeRawPointer(p)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}

/// One safetensors file, memory-mapped. Tensors it returns borrow the mapping (no copy).
public final class SafetensorsFile {
    public struct Entry: Sendable {
        public let dtype: DType
        public let shape: [Int]
        let begin: Int
        let end: Int
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let file: MappedFile
    private let dataStart: Int

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let headerSize = Int(file.base.loadUnaligned(as: UInt64.self).littleEndian)
        guard headerSize > 0, 8 + headerSize <= file.size else {
            throw SafetensorsError.malformed(path, "header size \(headerSize) exceeds the file")
        }
        dataStart = 8 + headerSize
        let header = Data(bytes: file.base + 8, count: headerSize)
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw SafetensorsError.malformed(path, "header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in json {
            if key == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw SafetensorsError.malformed(path, "bad entry for '\(key)'") }
            guard let dtype = DType(name: dtypeName) else {
                throw SafetensorsError.malformed(path, "'\(key)' has unsupported dtype \(dtypeName)")
            }
            let entry = Entry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
            guard entry.end - entry.begin == shape.reduce(1, *) * dtype.byteSize, dataStart + entry.end <= file.size else {
                throw SafetensorsError.malformed(path, "'\(key)' offsets do not match its shape or the file size")
            }
            entries[key] = entry
        }
        self.entries = entries
        self.metadata = metadata
    }

    public var keys: [String] { entries.keys.sorted() }

    /// The named tensor, borrowing the file's memory (CPU, dtype as stored).
    public func tensor(_ key: String) throws -> Tensor {
        guard let e = entries[key] else { throw SafetensorsError.missingTensor(key, path) }
        return try Tensor.borrowing(file.base + dataStart + e.begin, shape: e.shape, dtype: e.dtype, owner: file)
    }
}

/// Writes safetensors files atomically (temporary file in the same folder, then rename).
public enum Safetensors {
    public static func write(_ tensors: [String: Tensor], metadata: [String: String]? = nil, to url: URL) throws {
        // Largest alignment first, then by name, as the Python writer does; keeps every tensor aligned.
        let names = tensors.keys.sorted { a, b in
            let (da, db) = (tensors[a]!.dtype.byteSize, tensors[b]!.dtype.byteSize)
            return da != db ? da > db : a < b
        }
        var header: [String: Any] = [:]
        if let metadata { header["__metadata__"] = metadata }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let n = t.count * t.dtype.byteSize
            header[name] = ["dtype": t.dtype.safetensorsName, "shape": t.shape, "data_offsets": [offset, offset + n]]
            offset += n
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }

        try writeAtomically(to: url) { handle in
            var size = UInt64(json.count).littleEndian
            handle.write(Data(bytes: &size, count: 8))
            handle.write(json)
            for name in names {
                let t = tensors[name]!
                try handle.write(contentsOf: Data(t.bytes()))
            }
        }
    }

    /// Loads every tensor of a file (borrowing its memory map).
    public static func read(_ url: URL) throws -> [String: Tensor] {
        let file = try SafetensorsFile(path: url.path)
        var out: [String: Tensor] = [:]
        for key in file.entries.keys { out[key] = try file.tensor(key) }
        return out
    }
}

/// Creates `url` by writing a temporary sibling and renaming it, so readers never see half a file.
public func writeAtomically(to url: URL, _ body: (FileHandle) throws -> Void) throws {
    let dir = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
    guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
        throw SafetensorsError.cannotOpen(tmp.path, "cannot create file")
    }
    do {
        let handle = try FileHandle(forWritingTo: tmp)
        try body(handle)
        try handle.synchronize()
        try handle.close()
        guard rename(tmp.path, url.path) == 0 else {
            throw SafetensorsError.cannotOpen(url.path, String(cString: strerror(errno)))
        }
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw error
    }
}

/// Writes `data` to `url` atomically.
public func writeAtomically(_ data: Data, to url: URL) throws {
    try writeAtomically(to: url) { try $0.write(contentsOf: data) }
}
