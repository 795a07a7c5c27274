import Foundation
import Logging
import NNsight
@testable import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Keys, versions and bad frames: refused with typed errors, and the server keeps serving.
struct ProtocolSafetyTests {
    @Test func aWrongOrMissingKeyIsRejectedAndTheRightOneAccepted() async throws {
        var configuration = ServerConfiguration()
        configuration.keys = APIKeys(entries: [.init(name: "alice", sha256: APIKeys.hash("alice's key"))])
        let (wrong, missing, accepted) = try await withServer(configuration) { url, server in
            let wrong = Result { try RemoteModel(url: url, apiKey: "mallory's key") }
            let missing = Result { try RemoteModel(url: url) }
            let accepted = try RemoteModel(url: url, apiKey: "alice's key")
            let value = try accepted.trace(Scenarios.prompt) { m in try m.lm_head.output }
            return (wrong.map { _ in () }, missing.map { _ in () }, UncheckedTensor(value))
        }
        for refused in [wrong, missing] {
            guard case .failure(RemoteError.protocolError(let code, _)) = refused else {
                Issue.record("expected a refusal, got \(refused)")
                continue
            }
            #expect(code == .unauthorized)
        }
        let local = try Fixtures.localModel()
        #expect(try accepted.tensor.equal(try local.trace(Scenarios.prompt) { m in try m.lm_head.output }))
    }

    @Test func theKeyHashIsSHA256() {
        // `printf %s abc | sha256sum`, the FIPS 180-2 test vector.
        #expect(APIKeys.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func aProtocolMismatchNamesBothVersions() async throws {
        let refusal = try await withServer { url, _ in
            let connection = RemoteConnection(url: url, logger: Logger(label: "test"))
            defer { connection.shutDown() }
            var hello = WireMessage(kind: .hello)
            hello.protocolVersion = 999
            hello.libraryVersion = "9.9.9"
            try connection.send(hello)
            guard case .message(let message, _) = connection.mailbox(.init(trace: -1, invoke: -1)).take(before: Date(timeIntervalSinceNow: 10)) else {
                return WireMessage(kind: .error)
            }
            return message
        }
        #expect(refusal.code == .versionMismatch)
        #expect(refusal.protocolVersion == RemoteProtocol.version)
        #expect(refusal.message?.contains("protocol 999 (swift-nnsight 9.9.9)") == true)
        #expect(refusal.message?.contains("this server protocol \(RemoteProtocol.version)") == true)
    }

    @Test func aThousandFuzzedFramesAreAnsweredAndANormalClientStillGetsCorrectResults() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.trace(Scenarios.prompt) { m in try m.transformer.h[1].output }
        let (answered, closed, value) = try await withServer { url, _ in
            var generator = SplitMix(seed: 13)
            var valid = WireMessage(kind: .write, trace: 1, invoke: 0)
            valid.path = "model.transformer.h.0"
            valid.key = .output
            let template = try WireFrame.binary(valid, tensor: try Tensor.ones([1, 3, 4]))
            var answered = 0, closed = 0, sent = 0
            var remote = try RemoteModel(url: url)
            while sent < 1000 {
                let frame = FuzzFrame.make(index: sent, template: template, generator: &generator)
                switch frame {
                case .binary(let bytes): remote.sendRawFrame(binary: bytes)
                case .text(let text): remote.sendRawFrame(text: text)
                }
                sent += 1
                switch remote.connection.mailbox(.init(trace: -1, invoke: -1)).take(before: Date(timeIntervalSinceNow: 10)) {
                case .message(let message, _) where message.kind == .error && message.code != nil: answered += 1
                case .closed:
                    closed += 1
                    remote = try RemoteModel(url: url)
                default:
                    Issue.record("frame \(sent) got no typed error")
                }
            }
            let value = try RemoteModel(url: url).trace(Scenarios.prompt) { m in try m.transformer.h[1].output }
            return (answered, closed, UncheckedTensor(value))
        }
        #expect(answered + closed == 1000)
        #expect(answered > 900)
        #expect(try value.tensor.equal(expected))
    }
}

/// A small deterministic generator (SplitMix64), so a failing frame can be reproduced.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The fuzzed frames: truncated and bit-flipped tensor frames, random bytes, lying header
/// lengths, shapes that overflow, unknown dtypes, and JSON messages that are malformed, out of
/// place, or aimed at traces and modules that do not exist.
enum FuzzFrame {
    case binary([UInt8])
    case text(String)

    static func make(index: Int, template: [UInt8], generator: inout SplitMix) -> FuzzFrame {
        switch index % 10 {
        case 0:
            return .binary(Array(template.prefix(Int.random(in: 0..<template.count, using: &generator))))
        case 1:
            var bytes = template
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[at] ^= UInt8.random(in: 1...255, using: &generator)
            }
            return .binary(bytes)
        case 2:
            return .binary((0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        case 3:
            var bytes = template
            let length = UInt32.random(in: 0...UInt32.max, using: &generator).littleEndian
            withUnsafeBytes(of: length) { for (offset, byte) in $0.enumerated() { bytes[offset] = byte } }
            return .binary(bytes)
        case 4:
            return binaryFrame(#"{"kind":"write","trace":1,"invoke":0,"path":"model","key":"output","tensor":{"dtype":"float32","shape":[9223372036854775807,4]}}"#, payload: 16)
        case 5:
            return binaryFrame(#"{"kind":"write","trace":1,"invoke":0,"path":"model","key":"output","tensor":{"dtype":"complex64","shape":[1]}}"#, payload: 8)
        case 6:
            let kinds = ["read", "write", "next", "apply", "finished", "failed", "cancel", "welcome", "status", "value", "hello", "nonsense"]
            let kind = kinds[Int.random(in: 0..<kinds.count, using: &generator)]
            return .text(#"{"kind":"\#(kind)","trace":\#(Int.random(in: -5...50, using: &generator)),"invoke":3,"path":"model.transformer.h.99"}"#)
        case 7:
            let text = #"{"kind":"read","trace":1,"invoke":0,"path":"model.lm_head","key":"output"}"#
            return .text(String(text.prefix(Int.random(in: 0..<text.count, using: &generator))))
        case 8:
            return .text(#"{"kind":"trace","trace":-1,"invokes":[]}"#)
        default:
            return .text(String((0..<Int.random(in: 1...40, using: &generator)).map { _ in Character(Unicode.Scalar(UInt8.random(in: 32...126, using: &generator))) }))
        }
    }

    static func binaryFrame(_ header: String, payload: Int) -> FuzzFrame {
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(contentsOf: [UInt8](repeating: 0, count: payload))
        return .binary(bytes)
    }
}
