import Foundation
@testable import NNsightRemote
import Testing

/// The hand-written JSON of access messages against Foundation's JSONEncoder and JSONDecoder,
/// which define the wire format: what one writes the other reads as the same message, and the
/// hand-written reader never accepts text that JSONDecoder reads differently or refuses.
struct WireMessageJSONTests {
    /// The messages of every access, with every field the fast path handles.
    static var accessMessages: [WireMessage] {
        var read = WireMessage(kind: .read, trace: 12, invoke: 0)
        read.path = "model.model.layers.0"
        read.key = .output
        var value = WireMessage(kind: .value, trace: 3, invoke: 2)
        value.tensor = TensorHeader(dtype: "float32", shape: [1, 5, 576])
        var meta = WireMessage(kind: .value, trace: 1, invoke: 0)
        meta.tensor = TensorHeader(dtype: "bfloat16", shape: [], meta: true)
        var write = WireMessage(kind: .write, trace: 7, invoke: 1)
        write.path = "model.transformer.h.11.mlp"
        write.key = .input
        write.mode = .inPlace
        write.tensor = TensorHeader(dtype: "int64", shape: [2, 0, 3], meta: false)
        var next = WireMessage(kind: .next, trace: -1, invoke: 4)
        next.count = 1_000_000
        var step = WireMessage(kind: .ack, trace: 9, invoke: 0)
        step.step = 3
        step.began = false
        var status = WireMessage(kind: .status, trace: Int.max)
        status.state = .queued
        status.position = 0
        status.sharedWith = 16
        var finished = WireMessage(kind: .finished, trace: Int.min, invoke: 0)
        finished.stopped = true
        var odd = WireMessage(kind: .read, trace: 1, invoke: 0)
        odd.path = "model.\"quoted\"\\back\nline\u{1}é✓/slash"
        odd.key = .skip
        return [read, value, meta, write, next, step, status, finished, odd, WireMessage(kind: .start, trace: 5, invoke: 3),
                WireMessage(kind: .finished)]
    }

    static func foundationJSON(_ message: WireMessage) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(message))
    }

    static func foundationRead(_ bytes: [UInt8]) -> WireMessage? {
        try? JSONDecoder().decode(WireMessage.self, from: Data(bytes))
    }

    static func fastRead(_ bytes: [UInt8]) -> WireMessage? {
        bytes.withUnsafeBytes { WireMessageJSON.decode($0) }
    }

    @Test func accessMessagesWrittenByHandReadAsTheSameMessageByJSONDecoder() throws {
        for message in Self.accessMessages {
            let written = try #require(WireMessageJSON.encode(message), "\(message.kind) took the slow path")
            #expect(Self.foundationRead(written) == message, "\(String(decoding: written, as: UTF8.self))")
            // The hand-written reader reads it back, except a string with escapes (JSONDecoder's).
            if message.path?.contains(where: { $0 == "\"" || $0 == "\\" || $0.asciiValue.map { $0 < 0x20 } == true }) != true {
                #expect(Self.fastRead(written) == message)
            } else {
                #expect(Self.fastRead(written) == nil)
            }
            #expect(try WireFrame.decode(text: WireFrame.text(message)) == message)
        }
    }

    @Test func jsonEncoderTextOfAccessMessagesIsReadByHand() throws {
        for message in Self.accessMessages where message.path?.contains(where: { "\"\\\n\u{1}/".contains($0) }) != true {
            let text = try Self.foundationJSON(message)
            #expect(Self.fastRead(text) == message, "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test func messagesWithOtherFieldsAreLeftToFoundation() throws {
        var hello = WireMessage(kind: .hello)
        hello.protocolVersion = 2
        hello.apiKey = "key"
        var error = WireMessage.error(.engine, "out of order", trace: 1, invoke: 0)
        error.engineError = EngineErrorPayload(name: "outOfOrder", requester: "model.h.0.output.i0")
        var trace = WireMessage(kind: .trace, trace: 1)
        trace.invokes = [InvokeInput(tokens: [[1, 2, 3]])]
        for message in [hello, error, trace] {
            #expect(WireMessageJSON.encode(message) == nil)
            let text = try Self.foundationJSON(message)
            #expect(Self.fastRead(text) == nil)
            #expect(try WireFrame.decode(text: WireFrame.text(message)) == message)
        }
    }

    @Test func whatJSONDecoderRefusesOrReadsOtherwiseIsNotReadByHand() {
        let texts = [
            #"{"kind":"read","trace":01}"#, #"{"kind":"read","trace":-0}"#, #"{"kind":"read","trace":1.0}"#,
            #"{"kind":"read","trace":1e2}"#, #"{"kind":"read","trace":99999999999999999999}"#,
            #"{"kind":"read","trace":1,"trace":2}"#, #"{"kind":"reed"}"#, #"{"trace":1}"#, #"{"kind":"read",}"#,
            #"{"kind":"read"} x"#, #"{"kind":"read","path":null}"#, #"{"kind":"read","unknown":1}"#,
            #"{"kind":"value","tensor":{"dtype":"float32"}}"#, #"{"kind":"value","tensor":{"shape":[1],"dtype":"f","x":1}}"#,
            #"{"kind":"read","began":tru}"#, "{\"kind\":\"read\",\"path\":\"a\u{1}b\"}", #"["kind"]"#, "",
        ]
        for text in texts {
            let bytes = Array(text.utf8)
            #expect(Self.fastRead(bytes) == nil, "\(text)")
        }
        // Invalid UTF-8 inside a string.
        #expect(Self.fastRead(Array(#"{"kind":"read","path":""#.utf8) + [0xff, 0x22, 0x7d]) == nil)
        // Whitespace where JSON allows it is read.
        var spaced = WireMessage(kind: .read, trace: 4)
        spaced.path = "model"
        #expect(Self.fastRead(Array(" {\n\t\"kind\" : \"read\" ,\"path\":\"model\", \"trace\":4 }\r\n".utf8)) == spaced)
    }

    /// Mutated texts of access messages: whatever the hand-written reader accepts, JSONDecoder
    /// reads as the same message.
    @Test func fuzzedTextIsNeverReadOtherwiseThanByJSONDecoder() throws {
        var generator = SplitMix(seed: 42)
        let alphabet = Array(#"{}[]":,-0123456789.eE truefalsnl\"#.utf8) + [0x00, 0x0a, 0xc3, 0xa9, 0xff]
        var accepted = 0
        for message in Self.accessMessages {
            let original = try Self.foundationJSON(message)
            for _ in 0..<600 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...3, using: &generator) where !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: bytes[at] = alphabet.randomElement(using: &generator)!
                    case 1: bytes.remove(at: at)
                    case 2: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                    default: bytes.removeSubrange(at...)
                    }
                }
                guard let fast = Self.fastRead(bytes) else { continue }
                accepted += 1
                #expect(Self.foundationRead(bytes) == fast, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        // Some mutations keep the text valid (a digit for a digit, a space added): those were compared.
        #expect(accepted > 100)
    }
}
