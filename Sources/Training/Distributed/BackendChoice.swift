import Foundation
import Torch

/// Which c10d backend carries a run's CUDA collectives (the gradients' all-reduces): NCCL when every rank
/// trains on CUDA and can make a ProcessGroupNCCL (the CUDA companion), Gloo otherwise — a group must use
/// one backend on every rank, and NCCL cannot serve a CPU rank. The ranks agree through the rendezvous
/// store before the group is made; the training log says what was chosen and why.
public struct BackendChoice: Equatable, Sendable, CustomStringConvertible {
    public let backend: CollectiveBackend
    public let reason: String

    public var description: String { "\(backend) (\(reason))" }

    /// What one rank can take part in.
    public enum Offer: Equatable, Sendable {
        case cpu
        /// On CUDA, without NCCL: why not.
        case cudaWithoutNCCL(String)
        /// On CUDA with NCCL (its version when known).
        case cudaWithNCCL(String?)

        /// This process's offer for training on `device`: asks the CUDA companion only on CUDA.
        public static func local(device: Device) -> Offer {
            guard case .cuda = device else { return .cpu }
            switch CUDACompanion.shared {
            case .ready(let companion): return .cudaWithNCCL(companion.ncclVersion)
            case .unavailable(let reason): return .cudaWithoutNCCL(reason)
            }
        }
    }

    /// The choice from every rank's offer (counted in the store), explained with this rank's own offer.
    static func decide(cudaRanks: Int, ncclRanks: Int, worldSize: Int, local: Offer) -> BackendChoice {
        if ncclRanks == worldSize, case .cudaWithNCCL(let version) = local {
            let nccl = version.map { "NCCL \($0)" } ?? "NCCL"
            return BackendChoice(backend: .nccl, reason: "every rank on CUDA, \(nccl) through the CUDA companion")
        }
        if cudaRanks < worldSize {
            return BackendChoice(backend: .gloo, reason: "\(worldSize - cudaRanks) of \(worldSize) rank(s) on the CPU")
        }
        var reason = "\(worldSize - ncclRanks) of \(worldSize) CUDA rank(s) cannot use NCCL"
        if case .cudaWithoutNCCL(let why) = local { reason += "; this rank: \(why)" }
        return BackendChoice(backend: .gloo, reason: reason)
    }

    /// Every rank posts its offer under `csm/backend/*` and waits (at most `timeout` s) until all have,
    /// so all reach the same choice.
    public static func agree(store: TCPStore, offer: Offer, worldSize: Int, timeout: Double) throws -> BackendChoice {
        let onCUDA = offer != .cpu
        var withNCCL = false
        if case .cudaWithNCCL = offer { withNCCL = true }
        try store.add("csm/backend/cuda", onCUDA ? 1 : 0)
        try store.add("csm/backend/nccl", withNCCL ? 1 : 0)
        try store.add("csm/backend/voted", 1)  // last: once all have voted, the counts are complete
        let deadline = Date().addingTimeInterval(timeout)
        while try store.add("csm/backend/voted", 0) < worldSize {
            guard Date() < deadline else {
                throw ConfigError("the ranks did not all say within \(Int(timeout)) s (--ddp_timeout) whether they train on CUDA")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return decide(cudaRanks: try store.add("csm/backend/cuda", 0), ncclRanks: try store.add("csm/backend/nccl", 0),
                      worldSize: worldSize, local: offer)
    }
}
