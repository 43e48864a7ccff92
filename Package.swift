// swift-tools-version:6.0
import PackageDescription

// libtorch comes from `make setup` (.deps/libtorch) or from LIBTORCH=/path/to/torch.
let libtorch = Context.environment["LIBTORCH"] ?? "\(Context.packageDirectory)/.deps/libtorch"

let package = Package(
    name: "csm-swift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "csm", targets: ["csm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The C++ shim: a C header over ATen/autograd. Thin on purpose; logic lives in Swift.
        .target(
            name: "CTorch",
            cxxSettings: [
                .unsafeFlags(["-isystem", "\(libtorch)/include", "-D_GLIBCXX_USE_CXX11_ABI=1", "-O2",
                              "-Wno-deprecated-declarations"]),
            ],
            linkerSettings: [
                .unsafeFlags(["-L\(libtorch)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(libtorch)/lib"]),
                .linkedLibrary("torch_cpu"),
                .linkedLibrary("c10"),
                .linkedLibrary("m"),
            ]
        ),
        // Tensors, autograd, safetensors, nn building blocks and optimizers.
        .target(name: "Torch", dependencies: ["CTorch"]),
        .executableTarget(
            name: "csm",
            dependencies: [
                "Torch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TorchTests", dependencies: ["Torch"], resources: []),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx20
)
