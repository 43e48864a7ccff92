/// The `post_processor` of a tokenizer.json, for a single sequence: what `add_special_tokens` wraps around
/// the ids. CSM's is `TemplateProcessing(single: "<|begin_of_text|> $A <|end_of_text|>")`.
indirect enum PostProcessor {
    /// The template's pieces in order: fixed ids, or the sequence itself.
    case template([TemplatePiece])
    case sequence([PostProcessor])
    /// ByteLevel's post-processing only trims offsets; ids are untouched.
    case none

    enum TemplatePiece: Equatable {
        case ids([Int])
        case sequence
    }

    init(_ json: JSONObject) throws {
        let type = try json.string("type")
        switch type {
        case "TemplateProcessing":
            let specials = try json.object("special_tokens")
            var pieces: [TemplatePiece] = []
            for item in try json.objects("single") {
                if item.has("Sequence") {
                    pieces.append(.sequence)
                } else if item.has("SpecialToken") {
                    let name = try item.object("SpecialToken").string("id")
                    guard let entry = specials.dict[name] as? [String: Any],
                          let ids = entry["ids"] as? [Int] else {
                        throw json.fail("\(json.key("special_tokens")) lacks the ids of \"\(name)\"")
                    }
                    pieces.append(.ids(ids))
                } else {
                    throw json.fail("\(item.path) must be a SpecialToken or a Sequence")
                }
            }
            self = .template(pieces)
        case "BertProcessing", "RobertaProcessing":
            func id(_ key: String) throws -> Int {
                let pair = try json.array(key)
                guard pair.count == 2, let id = pair[1] as? Int else {
                    throw json.fail("\(json.key(key)) must be [token, id]")
                }
                return id
            }
            self = .template([.ids([try id("cls")]), .sequence, .ids([try id("sep")])])
        case "ByteLevel":
            self = .none
        case "Sequence":
            self = .sequence(try json.objects("processors").map(PostProcessor.init))
        default:
            throw TokenizerError.unsupported(json.file, "post-processor \"\(type)\" at \(json.path)")
        }
    }

    func apply(_ ids: [Int]) -> [Int] {
        switch self {
        case .none: return ids
        case .sequence(let steps): return steps.reduce(ids) { $1.apply($0) }
        case .template(let pieces):
            var out: [Int] = []
            out.reserveCapacity(ids.count + 4)
            for piece in pieces {
                switch piece {
                case .ids(let fixed): out += fixed
                case .sequence: out += ids
                }
            }
            return out
        }
    }
}

/// The `decoder` of a tokenizer.json.
enum Decoder {
    /// Tokens' characters back to the bytes they stand for, then UTF-8 with replacement characters.
    case byteLevel
    /// No decoder: `tokenizers` joins the tokens with spaces.
    case none

    init(_ json: JSONObject?) throws {
        guard let json else {
            self = .none
            return
        }
        let type = try json.string("type")
        switch type {
        case "ByteLevel": self = .byteLevel
        case "Sequence":
            let steps = try json.objects("decoders").map { try $0.string("type") }
            guard steps == ["ByteLevel"] else {
                throw TokenizerError.unsupported(json.file, "decoder sequence \(steps) at \(json.path)")
            }
            self = .byteLevel
        default:
            throw TokenizerError.unsupported(json.file, "decoder \"\(type)\" at \(json.path)")
        }
    }
}
