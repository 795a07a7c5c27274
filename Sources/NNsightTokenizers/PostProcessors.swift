/// The last encoding stage: adds the special tokens a model expects around a sequence
/// (`tokenizers.processors`), e.g. Llama's `<s>` in front.
///
/// | Python | Swift |
/// |---|---|
/// | `TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])` | `.template(single: [.special("<s>"), .sequence], …)` |
/// | `ByteLevel(trim_offsets=…)` | `.byteLevel` (ids unchanged) |
/// | `BertProcessing(sep, cls)` / `RobertaProcessing(…)` | `.bert(cls:sep:)` |
indirect enum PostProcessor: Sendable {
    enum Piece: Sendable {
        /// `$A` with its type id.
        case sequence(typeId: Int)
        /// A special token's ids with its type id.
        case special(ids: [Int], typeId: Int)
    }

    case byteLevel
    case template(single: [Piece])
    case bert(cls: Int, sep: Int)
    case sequence([PostProcessor])

    init(config: JSONConfig) throws(TokenizerError) {
        let type = try config.type(component: "post_processor")
        switch type {
        case "ByteLevel":
            self = .byteLevel
        case "TemplateProcessing":
            var specials: [String: [Int]] = [:]
            if let table = config["special_tokens"] {
                for (name, _) in try table.asObject() {
                    let entry = try table.required(name)
                    specials[name] = try entry.required("ids").asArray().map { (c) throws(TokenizerError) in try c.asInt() }
                }
            }
            var pieces: [Piece] = []
            for item in try config.required("single").asArray() {
                if let sequence = item["Sequence"] {
                    let id = try sequence.string("id", default: "A")
                    guard id == "A" else { throw .malformed(path: sequence.path, reason: "a single template can only use $A") }
                    pieces.append(.sequence(typeId: try sequence.int("type_id", default: 0)))
                } else if let special = item["SpecialToken"] {
                    let name = try special.required("id").asString()
                    guard let ids = specials[name] else {
                        throw .malformed(path: special.path, reason: "special token \"\(name)\" is not in special_tokens")
                    }
                    pieces.append(.special(ids: ids, typeId: try special.int("type_id", default: 0)))
                } else {
                    throw item.malformed("expected {\"Sequence\": …} or {\"SpecialToken\": …}")
                }
            }
            self = .template(single: pieces)
        case "BertProcessing", "RobertaProcessing":
            func tokenId(_ key: String) throws(TokenizerError) -> Int {
                let pair = try config.required(key).asArray()
                guard pair.count == 2 else { throw .malformed(path: config.path + "." + key, reason: "expected [token, id]") }
                return try pair[1].asInt()
            }
            self = .bert(cls: try tokenId("cls"), sep: try tokenId("sep"))
        case "Sequence":
            self = .sequence(try config.required("processors").asArray().map { (c) throws(TokenizerError) in try PostProcessor(config: c) })
        default:
            throw .unsupported(component: "post_processor", type: type)
        }
    }

    /// How many ids `process` adds to a single sequence (used by truncation).
    var addedCount: Int {
        switch self {
        case .byteLevel: 0
        case let .template(single):
            single.reduce(0) { count, piece in
                if case let .special(ids, _) = piece { return count + ids.count }
                return count
            }
        case .bert: 2
        case let .sequence(steps): steps.reduce(0) { $0 + $1.addedCount }
        }
    }

    func process(_ encoding: Encoding) -> Encoding {
        switch self {
        case .byteLevel:
            return encoding
        case let .template(single):
            var result = Encoding()
            for piece in single {
                switch piece {
                case let .sequence(typeId):
                    result.append(encoding, typeId: typeId)
                case let .special(ids, typeId):
                    for id in ids { result.appendSpecial(id, typeId: typeId) }
                }
            }
            return result
        case let .bert(cls, sep):
            var result = Encoding()
            result.appendSpecial(cls, typeId: 0)
            result.append(encoding, typeId: 0)
            result.appendSpecial(sep, typeId: 0)
            return result
        case let .sequence(steps):
            return steps.reduce(encoding) { $1.process($0) }
        }
    }
}
