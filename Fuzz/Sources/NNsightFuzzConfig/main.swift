// libFuzzer target: config.json bytes in, a typed error or a model built on the meta device
// (shapes only, no memory for weights) out, never a crash.
import Foundation
import NNsightFuzzDriver
import NNsightModels

func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let bytes else { return 0 }
    _ = try? makeModel(configData: Data(bytes: bytes, count: count), device: .meta)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
