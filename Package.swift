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
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // The C++ shim: a C header over ATen/autograd. Thin on purpose; logic lives in Swift.
        .target(
            name: "CTorch",
            cxxSettings: [
                // The second include path and USE_C10D_GLOO are for distributed.cpp (c10d headers).
                .unsafeFlags(["-isystem", "\(libtorch)/include", "-isystem", "\(libtorch)/include/torch/csrc/api/include",
                              "-D_GLIBCXX_USE_CXX11_ABI=1", "-DUSE_C10D_GLOO", "-O2", "-Wno-deprecated-declarations"]),
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
        // Shim overhead, matmul and AdamW timings next to Python torch (scripts/bench_torch.sh).
        .executableTarget(name: "torch-bench", dependencies: ["Torch"], path: "Sources/torch-bench"),
        // libsndfile + libsoxr from the system (module map only; soxr needs no extra flags).
        .systemLibrary(
            name: "CAudio",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev", "libsoxr-dev"]), .brew(["libsndfile", "libsoxr"])]
        ),
        // Audio files in and out, resampling, mono down-mix. No libtorch.
        .target(name: "Audio", dependencies: ["CAudio"]),
        .executableTarget(name: "audio-bench", dependencies: ["Audio"], path: "Sources/AudioBench"),
        // The CSM-1B model: config, backbone, depth decoder, loss, LoRA.
        // Generation (Sources/CSM/Generation) reads context wavs and speaks through the codec and the tokenizer.
        .target(name: "CSM", dependencies: ["Torch", "Mimi", "Tokenizer", "Audio"]),
        .executableTarget(name: "csm-bench", dependencies: ["CSM", "Torch"], path: "Sources/CSMBench"),
        .executableTarget(name: "generation-bench", dependencies: ["CSM", "Torch"], path: "Sources/GenerationBench"),
        // The Mimi audio codec: SEANet + transformer + split RVQ, encode/decode as transformers' MimiModel.
        .target(name: "Mimi", dependencies: ["Torch"]),
        .executableTarget(name: "mimi-bench", dependencies: ["Mimi", "Torch"], path: "Sources/MimiBench"),
        // The training loop and everything around it: config (flags + YAML), schedules, loggers.
        .target(name: "Training", dependencies: ["Torch", "CSM", "Dataset", "Hub", "Tokenizer", "Yams"]),
        .executableTarget(name: "train-bench", dependencies: ["Training", "CSM", "Torch"], path: "Sources/TrainBench"),
        // `csm preprocess`: dataset walk, skips, segment shards + manifest, and the reader for training.
        .target(name: "Dataset", dependencies: ["Torch", "Audio", "CSM", "Mimi", "Tokenizer"]),
        .executableTarget(name: "dataset-bench", dependencies: ["Dataset", "Audio"], path: "Sources/DatasetBench"),
        // Llama-3 byte-level BPE from tokenizer.json, and CSM's turn layout. Pure Swift (Foundation only).
        .target(name: "Tokenizer"),
        .executableTarget(name: "tokenizer-bench", dependencies: ["Tokenizer"], path: "Sources/TokenizerBench"),
        // Model resolution: local folder or hub id through the Hugging Face cache, downloading what is missing.
        .target(name: "Hub"),
        .executableTarget(
            name: "csm",
            dependencies: [
                "Torch",
                "CSM",
                "Dataset",
                "Hub",
                "Tokenizer",
                "Training",
                "Audio",
                "Mimi",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TorchTests", dependencies: ["Torch"], resources: []),
        // Test helpers shared by test targets (a loopback HTTP server).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "HubTests", dependencies: ["Hub", "TestSupport"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"]),
        // Runs the built `csm` binary end to end (it must be built: swift build --build-tests builds it).
        .testTarget(name: "CLITests", dependencies: ["Audio", "Dataset", "Tokenizer", "Torch", "Training"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "CSM", "Torch", "TestSupport"]),
        .testTarget(name: "AudioTests", dependencies: ["Audio"]),
        .testTarget(name: "CSMTests", dependencies: ["CSM", "Torch"]),
        .testTarget(name: "GenerationTests", dependencies: ["CSM", "Torch", "Mimi", "Tokenizer", "Audio"]),
        .testTarget(name: "DatasetTests", dependencies: ["Dataset", "Audio", "CSM", "Mimi", "Tokenizer", "Torch"]),
        .testTarget(name: "NF4Tests", dependencies: ["Torch"]),
        .testTarget(name: "MimiTests", dependencies: ["Mimi", "Torch"]),
        // The tiny model `make demo` runs on loads in every loader and matches transformers.
        .testTarget(name: "DemoTests", dependencies: ["CSM", "Mimi", "Tokenizer", "Torch"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx20
)
