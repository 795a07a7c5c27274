// swift-tools-version: 6.1
// Coverage-guided fuzz targets (libFuzzer) for swift-nnsight's readers of untrusted files: GGUF,
// the safetensors header, tokenizer.json, config.json and chat templates. A package of its own, depending on the
// main one by path, so the main package builds without the fuzzer and stays usable as a
// dependency. Build and run through scripts/fuzz, which passes `-sanitize=fuzzer,address`;
// each target's main.swift hands its test function to libFuzzer's driver.
import PackageDescription

let package = Package(
    name: "swift-nnsight-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "swift-nnsight", path: "..")],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver for the targets' own main.
        .target(name: "NNsightFuzzDriver"),
        .executableTarget(
            name: "NNsightFuzzGGUF",
            dependencies: ["NNsightFuzzDriver", .product(name: "NNsightGGUF", package: "swift-nnsight")]),
        .executableTarget(
            name: "NNsightFuzzSafeTensors",
            dependencies: ["NNsightFuzzDriver", .product(name: "NNsightSafeTensors", package: "swift-nnsight")]),
        .executableTarget(
            name: "NNsightFuzzTokenizer",
            dependencies: ["NNsightFuzzDriver", .product(name: "NNsightTokenizers", package: "swift-nnsight")]),
        .executableTarget(
            name: "NNsightFuzzTemplate",
            dependencies: ["NNsightFuzzDriver", .product(name: "NNsightTemplates", package: "swift-nnsight")]),
        .executableTarget(
            name: "NNsightFuzzConfig",
            dependencies: ["NNsightFuzzDriver", .product(name: "NNsightModels", package: "swift-nnsight")]),
    ],
    swiftLanguageModes: [.v6]
)
