// libFuzzer target: GGUF bytes in, a typed GGUFError or a parsed file out, never a crash.
import Foundation
import NNsightFuzzDriver
import NNsightGGUF

/// Tensors up to this many elements are dequantized too (bigger ones only have their table
/// entries and byte views checked), so one input cannot ask for gigabytes.
private let dequantizeLimit = 1 << 16

func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let bytes else { return 0 }
    guard let file = try? GGUFFile(data: Data(bytes: bytes, count: count)) else { return 0 }
    _ = try? GGUFLlamaHyperparameters(file.metadata)
    for info in file.tensors {
        guard let data = try? file.tensorData(info.name) else { continue }
        _ = data.bytes.count
        if info.elementCount <= dequantizeLimit { _ = try? data.dequantized() }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
