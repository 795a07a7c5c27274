// libFuzzer target: safetensors bytes in (the JSON header and the data it points into), a typed
// SafeTensorsError or a parsed file out, never a crash.
import Foundation
import NNsightFuzzDriver
import NNsightSafeTensors

func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let bytes else { return 0 }
    guard let file = try? SafeTensorsFile(data: Data(bytes: bytes, count: count)) else { return 0 }
    _ = file.metadata.count
    for name in file.tensorNames {
        guard let tensor = try? file.tensor(name) else { continue }
        _ = (tensor.dtype, tensor.shape)
        tensor.withUnsafeBytes { _ = $0.count }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
