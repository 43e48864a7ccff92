// swift-tools-version:6.0
import PackageDescription

// libtorch comes from `make setup` (.deps/libtorch) or from LIBTORCH=/path/to/torch.
let libtorch = Context.environment["LIBTORCH"] ?? "\(Context.packageDirectory)/.deps/libtorch"

let package = Package(
    name: "csm-swift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "csm", targets: ["csm"]),
        .executable(name: "csm-bench", targets: ["csm-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // MARK: Libraries (Sources/<Name>): the model, its codec and tokenizer, training, data, hub access.

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
        // libsndfile + libsoxr from the system (module map only; soxr needs no extra flags).
        .systemLibrary(
            name: "CAudio",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev", "libsoxr-dev"]), .brew(["libsndfile", "libsoxr"])]
        ),
        // Audio files in and out, resampling, mono down-mix. No libtorch.
        .target(name: "Audio", dependencies: ["CAudio"]),
        // The CSM-1B model: config, backbone, depth decoder, loss, LoRA.
        // Generation (Sources/CSM/Generation) reads context wavs and speaks through the codec and the tokenizer.
        .target(name: "CSM", dependencies: ["Torch", "Mimi", "Tokenizer", "Audio"]),
        // The Mimi audio codec: SEANet + transformer + split RVQ, encode/decode as transformers' MimiModel.
        .target(name: "Mimi", dependencies: ["Torch"]),
        // The training loop and everything around it: config (flags + YAML), schedules, loggers.
        .target(name: "Training", dependencies: ["Torch", "CSM", "Dataset", "Hub", "Tokenizer", "ConsoleProgress", "Yams",
                                                 "Mimi", "SpeechEvaluation"]),
        // `csm preprocess`: dataset walk, skips, segment shards + manifest, and the reader for training.
        .target(name: "Dataset", dependencies: ["Torch", "Audio", "CSM", "Mimi", "Tokenizer", "ConsoleProgress",
                                                .product(name: "Crypto", package: "swift-crypto")]),
        // Whisper speech recognition for evaluation: log-mel features, encoder/decoder, greedy transcription
        // as transformers' WhisperForConditionalGeneration.generate, text through the checkpoint's tokenizer.json.
        .target(name: "Whisper", dependencies: ["Torch", "Audio", "Tokenizer"]),
        // Speaker embeddings: transformers' WavLMForXVector (x-vectors) and the similarity of a clip to a speaker.
        .target(name: "WavLM", dependencies: ["Torch", "Audio"]),
        // WER/CER with a stated text normaliser, aggregated as jiwer. Pure Swift.
        .target(name: "SpeechMetrics"),
        // Judging generated speech: held-out sentences spoken with their context, transcribed (WER/CER) and
        // embedded (speaker similarity); `csm eval --speech` and `--eval_speech_every` run it.
        .target(name: "SpeechEvaluation", dependencies: ["CSM", "Mimi", "Tokenizer", "Dataset", "Audio", "Torch",
                                                         "WavLM", "Whisper", "SpeechMetrics", "Hub"]),
        // Llama-3 byte-level BPE from tokenizer.json, and CSM's turn layout. Pure Swift (Foundation only).
        .target(name: "Tokenizer"),
        // Model resolution: local folder or hub id through the Hugging Face cache, downloading what is missing.
        .target(name: "Hub", dependencies: ["ConsoleProgress", .product(name: "Crypto", package: "swift-crypto")]),
        // The progress bar of downloads, preprocessing and training: redrawn on a terminal, plain lines in logs.
        .target(name: "ConsoleProgress"),
        // `csm serve`: OpenAI's speech endpoint over HTTP (Hummingbird); one scheduler thread owns the model.
        .target(name: "Serve", dependencies: ["CSM", "Mimi", "Tokenizer", "Audio", "Torch", "Yams",
                                              .product(name: "Hummingbird", package: "hummingbird"),
                                              .product(name: "Logging", package: "swift-log")]),

        // MARK: The `csm` command line (Sources/csm): preprocess, train, generate, merge, eval, tokenize, encode.
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
                "ConsoleProgress",
                "Serve",
                "SpeechEvaluation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Benchmarks (Sources/csm-bench): `csm-bench torch|audio|forward-backward|generation|mimi|train|dataset|
        // tokenizer`, the Swift side of each comparison that scripts/bench*.sh and tools/bench/*.py run.
        .executableTarget(
            name: "csm-bench",
            dependencies: [
                "Torch", "Audio", "CSM", "Mimi", "Tokenizer", "Dataset", "Training", "Whisper", "WavLM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests (Tests/<Name>); the committed fixtures they compare against are in Tests/Fixtures.
        .testTarget(name: "TorchTests", dependencies: ["Torch", "TestSupport"], resources: []),
        // Test helpers shared by test targets: where the fixtures are, parity lines, a loopback HTTP server, Python checks.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "HubTests", dependencies: ["Hub", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "TestSupport"]),
        // Runs the built `csm` binary end to end (it must be built: swift build --build-tests builds it).
        .testTarget(name: "CLITests", dependencies: ["Audio", "CSM", "Dataset", "SpeechEvaluation", "Tokenizer", "Torch",
                                                  "Training", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "CSM", "Torch", "TestSupport"]),
        .testTarget(name: "AudioTests", dependencies: ["Audio", "TestSupport"]),
        .testTarget(name: "CSMTests", dependencies: ["CSM", "Torch", "TestSupport"]),
        .testTarget(name: "GenerationTests", dependencies: ["CSM", "Torch", "Mimi", "Tokenizer", "Audio", "TestSupport"]),
        .testTarget(name: "DatasetTests", dependencies: ["Dataset", "Audio", "CSM", "Mimi", "Tokenizer", "Torch", "TestSupport"]),
        .testTarget(name: "NF4Tests", dependencies: ["Torch", "TestSupport"]),
        .testTarget(name: "MimiTests", dependencies: ["Mimi", "Torch", "TestSupport"]),
        .testTarget(name: "WhisperTests", dependencies: ["Whisper", "Torch", "Audio", "TestSupport"]),
        .testTarget(name: "SpeechMetricsTests", dependencies: ["SpeechMetrics", "TestSupport"]),
        .testTarget(name: "SpeechEvaluationTests", dependencies: ["SpeechEvaluation", "SpeechMetrics", "WavLM", "CSM", "Mimi",
                                                                 "Tokenizer", "Audio", "Torch", "TestSupport"]),
        .testTarget(name: "WavLMTests", dependencies: ["WavLM", "Torch", "Audio", "TestSupport"]),
        // The tiny model `make demo` runs on loads in every loader and matches transformers.
        // `csm serve` on the tiny demo model: the openai client, curl, disconnects, signals, a bounded load test.
        .testTarget(name: "ServeTests", dependencies: ["Serve", "Audio", "TestSupport"]),
        .testTarget(name: "DemoTests", dependencies: ["CSM", "Mimi", "Tokenizer", "Torch", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx20
)
