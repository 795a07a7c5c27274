// swift-tools-version: 6.1
// swift-nnsight: nnsight for Swift. One target per layer; see DESIGN.md in the shared folder.
import PackageDescription

let package = Package(
    name: "swift-nnsight",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "GGUF", targets: ["GGUF"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "NNsight", targets: ["NNsight"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libtorch, found through pkg-config (scripts/setup writes libtorch.pc).
        .systemLibrary(name: "CLibTorch", pkgConfig: "libtorch"),
        // The C ABI over libtorch: include/ctorch.h is pure C; the C++ stays behind it.
        .target(
            name: "CTorch",
            dependencies: ["CLibTorch"],
            cxxSettings: [.define("_GLIBCXX_USE_CXX11_ABI", to: "1")]
        ),
        .target(name: "Torch", dependencies: ["CTorch"]),
        // Memory-mapped checkpoint files, shared by the two pure-Swift readers.
        .target(name: "MappedFile"),
        .target(name: "SafeTensors", dependencies: ["MappedFile"]),
        .target(name: "GGUF", dependencies: ["MappedFile"]),
        .target(name: "Tokenizers"),
        .target(name: "NN", dependencies: ["Torch"]),
        .target(name: "Models", dependencies: ["NN", "SafeTensors", "GGUF", "Tokenizers"]),
        .target(name: "NNsight", dependencies: ["Models"]),

        .executableTarget(
            name: "nnsight",
            dependencies: ["NNsight", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Benchmark support: the same small ops called from C++, the floor of per-op overhead.
        .target(
            name: "TorchBaseline",
            dependencies: ["CLibTorch"],
            path: "Benchmarks/TorchBaseline",
            cxxSettings: [.define("_GLIBCXX_USE_CXX11_ABI", to: "1")]
        ),
        .executableTarget(
            name: "nnsight-bench",
            dependencies: [
                "Torch", "Tokenizers", "Models", "NNsight", "TorchBaseline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/nnsight-bench"
        ),

        .testTarget(name: "TorchTests", dependencies: ["Torch"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        .testTarget(name: "NNTests", dependencies: ["NN"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models"]),
        .testTarget(name: "NNsightTests", dependencies: ["NNsight"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx20
)
