import Foundation

/// Typed access to the loosely typed objects of a parsed tokenizer.json, with errors that name the file
/// and the key path.
struct JSONObject {
    let dict: [String: Any]
    let file: URL
    let path: String

    init(_ dict: [String: Any], file: URL, path: String = "") {
        self.dict = dict
        self.file = file
        self.path = path
    }

    func has(_ key: String) -> Bool {
        if let v = dict[key], !(v is NSNull) { return true }
        return false
    }

    func key(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ why: String) -> TokenizerError { .invalid(file, why) }

    func string(_ key: String) throws -> String {
        guard let v = dict[key] as? String else { throw fail("\"\(self.key(key))\" must be a string") }
        return v
    }

    func optionalString(_ key: String) -> String? { dict[key] as? String }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard has(key) else { return value }
        guard let v = dict[key] as? Bool else { throw fail("\"\(self.key(key))\" must be true or false") }
        return v
    }

    func int(_ key: String) throws -> Int {
        guard let v = dict[key] as? NSNumber, !(dict[key] is Bool) else {
            throw fail("\"\(self.key(key))\" must be an integer")
        }
        return v.intValue
    }

    func object(_ key: String) throws -> JSONObject {
        guard let v = dict[key] as? [String: Any] else { throw fail("\"\(self.key(key))\" must be an object") }
        return JSONObject(v, file: file, path: self.key(key))
    }

    func optionalObject(_ key: String) throws -> JSONObject? {
        guard has(key) else { return nil }
        return try object(key)
    }

    func array(_ key: String) throws -> [Any] {
        guard let v = dict[key] as? [Any] else { throw fail("\"\(self.key(key))\" must be an array") }
        return v
    }

    func objects(_ key: String) throws -> [JSONObject] {
        try array(key).enumerated().map { i, v in
            guard let d = v as? [String: Any] else { throw fail("\"\(self.key(key))[\(i)]\" must be an object") }
            return JSONObject(d, file: file, path: "\(self.key(key))[\(i)]")
        }
    }

    /// Reads and parses a JSON object file; a missing file, unreadable file or bad JSON is an error naming it.
    static func load(_ url: URL) throws -> JSONObject {
        guard FileManager.default.fileExists(atPath: url.path) else { throw TokenizerError.missingFile(url) }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw TokenizerError.unreadable(url, underlying: error.localizedDescription)
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            let ns = error as NSError
            let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String ?? ns.localizedDescription
            throw TokenizerError.malformedJSON(url, underlying: detail)
        }
        guard let dict = parsed as? [String: Any] else {
            throw TokenizerError.malformedJSON(url, underlying: "the top level must be an object")
        }
        return JSONObject(dict, file: url)
    }
}
