import Foundation
import NNsightTemplates

/// Reads the goldens that scripts/fixtures/gen_chat_templates.py rendered with transformers'
/// jinja2 environment: Tests/Fixtures/chat-templates/{chats,features,errors}.json.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chat-templates")

    static func load(_ name: String) throws -> TemplateValue {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        return try TemplateValue(json: text)
    }

    static let chats: TemplateValue = try! load("chats.json")
    static let features: [TemplateValue] = try! load("features.json").arrayValue
    static let errors: [TemplateValue] = try! load("errors.json").arrayValue

    static var templateNames: [String] { chats["templates"].dictionaryValue.keys }
    static var featureNames: [String] { features.map { $0["name"].stringValue } }
    static var errorNames: [String] { errors.map { $0["name"].stringValue } }

    /// The conversation of that name as chat messages (role, content, then any other fields).
    static func conversation(_ name: String) -> [ChatMessage] {
        chats["conversations"][name].arrayValue.map { message in
            var fields = TemplateDictionary()
            for (key, value) in message.dictionaryValue.items where key != "role" && key != "content" { fields[key] = value }
            return ChatMessage(role: message["role"].stringValue, content: message["content"], fields: fields)
        }
    }
}

/// Conveniences for reading fixture JSON; a wrong shape yields an empty value so the test fails on content.
extension TemplateValue {
    subscript(key: String) -> TemplateValue {
        if case let .dictionary(dictionary) = self { return dictionary[key] ?? .none }
        return .none
    }

    var arrayValue: [TemplateValue] { if case let .array(items) = self { return items } else { return [] } }
    var dictionaryValue: TemplateDictionary { if case let .dictionary(d) = self { return d } else { return TemplateDictionary() } }
    var stringValue: String { if case let .string(s) = self { return s } else { return "" } }
    var intValue: Int? { if case let .int(i) = self { return i } else { return nil } }
    var boolValue: Bool { if case let .bool(b) = self { return b } else { return false } }
    var isNone: Bool { if case .none = self { return true } else { return false } }

    /// A dictionary of template variables.
    var variables: [String: TemplateValue] {
        Dictionary(uniqueKeysWithValues: dictionaryValue.items.map { ($0.key, $0.value) })
    }
}
