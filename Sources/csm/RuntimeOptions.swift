import ArgumentParser
import Torch

/// `--device`, `--dtype` and `--threads`, shared by the subcommands that run the model.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "auto, cpu, cuda, cuda:N or mps.")
    var device: String = "auto"

    @Option(help: "Weight dtype for compute: f32, bf16 or f16 (default: f32 on CPU, bf16 elsewhere).")
    var dtype: String?

    @Option(help: "CPU threads for libtorch (default: libtorch's choice).")
    var threads: Int?

    func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    /// Applies `--threads` and resolves the device and compute dtype.
    func resolve() throws -> (device: Device, dtype: DType) {
        if let threads { Runtime.threads = threads }
        let device = try Device.parse(self.device)
        let dtype = try self.dtype.map { name -> DType in
            guard let d = DType(name: name), d.isFloatingPoint else {
                throw ValidationError("--dtype \(name): use f32, bf16 or f16")
            }
            return d
        } ?? (device == .cpu ? .f32 : .bf16)
        return (device, dtype)
    }
}
