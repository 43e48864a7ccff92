import ArgumentParser
import Torch

/// `--device` and `--threads`: the same options, with the same defaults, in every subcommand that runs
/// libtorch (`csm train` declares the same two as settings in TrainConfig).
struct DeviceOptions: ParsableArguments {
    @Option(help: "auto, cpu, cuda, cuda:N or mps (auto: CUDA, then MPS, then the CPU).")
    var device: String = "auto"

    @Option(help: "CPU threads for libtorch (default: libtorch's choice).")
    var threads: Int?

    func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    /// Applies `--threads` and resolves `--device`.
    func resolve() throws -> Device {
        if let threads { Runtime.threads = threads }
        return try Device.parse(device)
    }
}

/// `--device`, `--threads` and `--dtype`, shared by the subcommands that run the model.
struct RuntimeOptions: ParsableArguments {
    @OptionGroup var placement: DeviceOptions

    @Option(help: "Weight dtype for compute: f32, bf16 or f16 (default: bf16 on GPUs and, for generate/serve, on every CPU; f32 otherwise).")
    var dtype: String?

    /// Applies `--threads` and resolves the device and compute dtype. `generation`: without `--dtype`, bf16 on
    /// CPUs too. A frame reads every weight once per step, so half the bytes is the speed: steady frames/s 1.9×
    /// f32's on an AVX512-BF16 EPYC and 2.0× on an AVX2-only one, where bf16 products are emulated but a one-row
    /// product is memory-bound (BENCHMARKS "Generation"); and libtorch's int8/int4 CPU kernels are 8× faster
    /// with bf16 activations there. Eval and training keep f32 to report transformers' numbers.
    func resolve(generation: Bool = false) throws -> (device: Device, dtype: DType) {
        let device = try placement.resolve()
        let dtype = try self.dtype.map { name -> DType in
            guard let d = DType(name: name), d.isFloatingPoint else {
                throw ValidationError("--dtype \(name): use f32, bf16 or f16")
            }
            return d
        } ?? (device != .cpu || generation ? .bf16 : .f32)
        return (device, dtype)
    }
}
