// swift-tools-version: 6.1
// swift-nnsight: nnsight for Swift. One target per layer; see DESIGN.md in the shared folder.
//
// Every module is prefixed "NNsight" (C modules "CNNsight"), so none collides with another
// package's module (swift-transformers has `Tokenizers` and `Models`) or differs from another
// only in case, and no type shadows its module (`Torch` is an enum in `NNsightTorch`).
import PackageDescription

let package = Package(
    name: "swift-nnsight",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "NNsightTorch", targets: ["NNsightTorch"]),
        .library(name: "NNsightTemplates", targets: ["NNsightTemplates"]),
        .library(name: "NNsightTokenizers", targets: ["NNsightTokenizers"]),
        .library(name: "NNsightSafeTensors", targets: ["NNsightSafeTensors"]),
        .library(name: "NNsightGGUF", targets: ["NNsightGGUF"]),
        .library(name: "NNsightNN", targets: ["NNsightNN"]),
        .library(name: "NNsightModels", targets: ["NNsightModels"]),
        .library(name: "NNsight", targets: ["NNsight"]),
        .library(name: "NNsightVisualization", targets: ["NNsightVisualization"]),
        .library(name: "NNsightWorkbench", targets: ["NNsightWorkbench"]),
        .executable(name: "nnsight", targets: ["NNsightCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // libtorch, found through pkg-config (scripts/setup writes libtorch.pc).
        .systemLibrary(name: "CNNsightLibTorch", pkgConfig: "libtorch"),
        // The C ABI over libtorch: include/ctorch.h is pure C; the C++ stays behind it.
        .target(
            name: "CNNsightTorch",
            dependencies: ["CNNsightLibTorch"],
            cxxSettings: [.define("_GLIBCXX_USE_CXX11_ABI", to: "1")]
        ),
        // The only importer of CNNsightTorch, and it imports it `internal`: no C type leaves it.
        .target(name: "NNsightTorch", dependencies: ["CNNsightTorch"]),
        // Memory-mapped checkpoint files, shared by the two pure-Swift readers.
        .target(name: "NNsightMappedFile"),
        .target(name: "NNsightSafeTensors", dependencies: ["NNsightMappedFile"]),
        .target(name: "NNsightGGUF", dependencies: ["NNsightMappedFile"]),
        // A Jinja interpreter for chat templates (pure Swift, nothing tensor-related).
        .target(name: "NNsightTemplates"),
        .target(name: "NNsightTokenizers", dependencies: ["NNsightTemplates"]),
        .target(name: "NNsightNN", dependencies: ["NNsightTorch"]),
        .target(
            name: "NNsightModels",
            dependencies: ["NNsightNN", "NNsightSafeTensors", "NNsightGGUF", "NNsightTokenizers"]
        ),
        .target(name: "NNsight", dependencies: ["NNsightModels", "NNsightTemplates"]),
        // Pictures of results (logit lens, patching, attention, generation) as HTML and SVG: text
        // only, no tensor code; it draws the numbers NNsight computed.
        .target(name: "NNsightVisualization", dependencies: ["NNsight"]),
        // The local web workbench: one loaded model behind a Hummingbird server, pictures streamed.
        .target(
            name: "NNsightWorkbench",
            dependencies: [
                "NNsight", "NNsightVisualization",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(
            name: "NNsightCLI",
            dependencies: [
                "NNsight", "NNsightTemplates", "NNsightVisualization", "NNsightWorkbench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmark support: the same small ops called from C++, the floor of per-op overhead.
        .target(
            name: "NNsightTorchBaseline",
            dependencies: ["CNNsightLibTorch"],
            path: "Benchmarks/NNsightTorchBaseline",
            cxxSettings: [.define("_GLIBCXX_USE_CXX11_ABI", to: "1")]
        ),
        // The reliability soak: failing interventions of every kind, leak and concurrency checks;
        // run at full size by `nnsight-bench soak`, at a small size by its test.
        .target(name: "NNsightSoak", dependencies: ["NNsight"], path: "Benchmarks/NNsightSoak"),
        .executableTarget(
            name: "nnsight-bench",
            dependencies: [
                "NNsightTorch", "NNsightTokenizers", "NNsightGGUF", "NNsightModels", "NNsight",
                "NNsightTorchBaseline", "NNsightSoak",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/nnsight-bench"
        ),
        // Issue 15's GPU proof: every CUDA check against the CPU in one run (scripts/gpu/).
        .executableTarget(
            name: "nnsight-gpu-check",
            dependencies: ["NNsightTorch", "NNsightNN", "NNsightModels", "NNsight"],
            path: "Benchmarks/nnsight-gpu-check"
        ),

        .testTarget(name: "NNsightTorchTests", dependencies: ["NNsightTorch"]),
        .testTarget(name: "NNsightSafeTensorsTests", dependencies: ["NNsightSafeTensors"]),
        .testTarget(name: "NNsightGGUFTests", dependencies: ["NNsightGGUF"]),
        .testTarget(name: "NNsightTemplatesTests", dependencies: ["NNsightTemplates"]),
        .testTarget(name: "NNsightTokenizersTests", dependencies: ["NNsightTokenizers", "NNsightTemplates"]),
        .testTarget(name: "NNsightNNTests", dependencies: ["NNsightNN"]),
        .testTarget(name: "NNsightModelsTests", dependencies: ["NNsightModels"]),
        .testTarget(name: "NNsightTests", dependencies: ["NNsight", "NNsightTemplates"]),
        .testTarget(name: "NNsightSoakTests", dependencies: ["NNsightSoak"]),
        .testTarget(name: "NNsightVisualizationTests", dependencies: ["NNsightVisualization", "NNsight", "NNsightTorch"]),
        // Headless Chromium (scripts/install-chromium) loading the pictures and driving the workbench.
        .testTarget(name: "NNsightBrowserTests", dependencies: ["NNsightVisualization", "NNsightWorkbench", "NNsight", "NNsightTorch"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx20
)
