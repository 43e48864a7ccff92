/// Errors that stop `csm preprocess` (or reading its output) as a whole. Bad individual conversations or
/// segments are not errors: they become `Skip`s.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case inputNotFound(String)
    case inputNotADirectory(String)
    case cannotList(String, String)
    case nothingToDo(String)
    case settingsChanged(output: String, differences: [String])
    case notPreprocessed(String)
    case unsupportedFormat(String, Int)
    case corrupt(String, String)
    case invalidArgument(String)
    case encoder(String)

    public var description: String {
        switch self {
        case .inputNotFound(let p): return "--input_path \(p): no such folder"
        case .inputNotADirectory(let p): return "--input_path \(p): not a folder (expected ROOT/<language>/<conversation>/segments/)"
        case .cannotList(let p, let why): return "\(p): cannot list the folder (\(why))"
        case .nothingToDo(let p):
            return "--input_path \(p): nothing to do, no conversation folders found (expected ROOT/<language>/<conversation>/segments/; folders whose name starts with '_' are ignored)"
        case .settingsChanged(let out, let diffs):
            return "\(out) holds a preprocessing run with other settings (\(diffs.joined(separator: "; "))). "
                + "Pass --overwrite to replace it, or choose another --output_path."
        case .notPreprocessed(let p): return "\(p): no manifest.json; run `csm preprocess` first (or let it finish)"
        case .unsupportedFormat(let p, let v):
            return "\(p): format version \(v) is not supported by this csm (expects \(Manifest.formatVersion)); preprocess again"
        case .corrupt(let p, let why): return "\(p): \(why); preprocess again with --overwrite"
        case .invalidArgument(let m): return m
        case .encoder(let m): return m
        }
    }
}
