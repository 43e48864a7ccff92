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

    @Option(help: "Weight dtype for compute: f32, bf16 or f16 (default: bf16 on GPUs; on CPUs f32, or for generate bf16 where the CPU multiplies bf16).")
    var dtype: String?

    /// Applies `--threads` and resolves the device and compute dtype. `bf16WhereFast`: without
    /// `--dtype`, use bf16 on CPUs with bf16 instructions too (generation reads every weight once per
    /// step, so half the bytes is ~1.9× the speed there; eval keeps f32 to report transformers' numbers).
    func resolve(bf16WhereFast: Bool = false) throws -> (device: Device, dtype: DType) {
        let device = try placement.resolve()
        let dtype = try self.dtype.map { name -> DType in
            guard let d = DType(name: name), d.isFloatingPoint else {
                throw ValidationError("--dtype \(name): use f32, bf16 or f16")
            }
            return d
        } ?? (device != .cpu || (bf16WhereFast && FrozenProduct.fastest(on: .cpu) == .native) ? .bf16 : .f32)
        return (device, dtype)
    }
}
