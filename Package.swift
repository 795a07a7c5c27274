// swift-tools-version: 6.1
// swift-nnsight: nnsight for Swift. One target per layer; see DESIGN.md in the shared folder.
//
// Every module is prefixed "NNsight" (C modules "CNNsight"), so none collides with another
// package's module (swift-transformers has `Tokenizers` and `Models`) or differs from another
// only in case, and no type shadows its module (`Torch` is an enum in `NNsightTorch`).
import CompilerPluginSupport
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
        .library(name: "NNsightRemote", targets: ["NNsightRemote"]),
        .library(name: "NNsightServer", targets: ["NNsightServer"]),
        .library(name: "NNsightVisualization", targets: ["NNsightVisualization"]),
        .library(name: "NNsightWorkbench", targets: ["NNsightWorkbench"]),
        .executable(name: "nnsight", targets: ["NNsightCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // The `.source` macro (603 is the release that matches Swift 6.3).
        .package(url: "https://github.com/swiftlang/swift-syntax", from: "603.0.1"),
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
        // The `@Sourced` macro's compiler plugin: names every call inside a marked `forward`.
        .macro(
            name: "NNsightSourceMacros",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
            ]
        ),
        .target(name: "NNsightNN", dependencies: ["NNsightTorch", "NNsightSourceMacros"]),
        .target(
            name: "NNsightModels",
            dependencies: ["NNsightNN", "NNsightMappedFile", "NNsightSafeTensors", "NNsightGGUF", "NNsightTokenizers"]
        ),
        .target(name: "NNsight", dependencies: ["NNsightModels", "NNsightTemplates"]),
        // Remote execution, client side: the wire protocol shared with the server, and
        // `RemoteModel`. Kept apart from the server so a client never links the HTTP server.
        .target(
            name: "NNsightRemote",
            dependencies: [
                "NNsight", "NNsightModels",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ]
        ),
        // Remote execution, server side: `nnsight serve` (Hummingbird 2 + WebSocket).
        .target(
            name: "NNsightServer",
            dependencies: [
                "NNsightRemote", "NNsight",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
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
                "NNsight", "NNsightTemplates", "NNsightVisualization", "NNsightWorkbench", "NNsightServer",
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
                "NNsightTorchBaseline", "NNsightSoak", "NNsightRemote", "NNsightServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // The WebSocket floor of `nnsight-bench remote` (an echo over the server's stack).
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
        .testTarget(
            name: "NNsightSourceMacrosTests",
            dependencies: [
                "NNsightSourceMacros",
                .product(name: "SwiftSyntaxMacrosGenericTestSupport", package: "swift-syntax"),
            ]
        ),
        .testTarget(name: "NNsightModelsTests", dependencies: ["NNsightModels"]),
        .testTarget(name: "NNsightTests", dependencies: ["NNsight", "NNsightTemplates"]),
        .testTarget(name: "NNsightSoakTests", dependencies: ["NNsightSoak"]),
        .testTarget(name: "NNsightVisualizationTests", dependencies: ["NNsightVisualization", "NNsight", "NNsightTorch"]),
        // Headless Chromium (scripts/install-chromium) loading the pictures and driving the workbench.
        .testTarget(name: "NNsightBrowserTests", dependencies: ["NNsightVisualization", "NNsightWorkbench", "NNsight", "NNsightTorch"]),
        .testTarget(name: "NNsightServerTests", dependencies: ["NNsightServer", "NNsightRemote", "NNsight"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx20
)
