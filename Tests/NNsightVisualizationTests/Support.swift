import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import NNsight
import NNsightTorch

enum Tiny {
    static let models = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/models")

    /// A tiny checkpoint of Tests/Fixtures/models (made with transformers by scripts/fixtures).
    static func load(_ name: String = "tiny-gpt2") throws -> LanguageModel {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: models.appendingPathComponent(name).path)
        try model.dispatch()
        return model
    }
}

/// An SVG parsed by Foundation's XML parser: parsing fails on any unescaped markup character.
/// Collects, for every element with a `class`, its attributes and its own text.
final class ParsedSVG: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
        var parent: Int?
    }
    private(set) var elements: [Element] = []
    private var stack: [Int] = []

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw parser.parserError ?? CocoaError(.fileReadCorruptFile)
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes, parent: stack.last))
        stack.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let current = stack.last { elements[current].text += string }
    }

    /// Elements whose class list contains `className`.
    func elements(ofClass className: String) -> [Element] {
        elements.filter { ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(className)) }
    }

    /// The text of the child of `elements[index]` with class `className`.
    func child(of element: Element, _ className: String) -> String? {
        guard let index = elements.firstIndex(where: { $0.name == element.name && $0.attributes == element.attributes }) else { return nil }
        return elements.first { $0.parent == index && ($0.attributes["class"] ?? "") == className }?.text
    }
}
