// libFuzzer target: tokenizer.json bytes in, a typed TokenizerError or a tokenizer out that
// encodes and decodes a fixed text, never a crash.
import Foundation
import NNsightFuzzDriver
import NNsightTokenizers

private let text = "Hello, world! The capital of France is Paris. 123 ü 日本 <|endoftext|>  tabs\tand\nlines"

func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let bytes else { return 0 }
    guard let tokenizer = try? Tokenizer(data: Data(bytes: bytes, count: count)) else { return 0 }
    let encoding = tokenizer.encode(text)
    _ = tokenizer.decode(encoding.ids)
    _ = tokenizer.decode(encoding.ids, skipSpecialTokens: true)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
