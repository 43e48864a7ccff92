import Foundation
import Torch

/// This process's part in data-parallel training over c10d: the process group (Gloo, or NCCL for CUDA
/// tensors when every rank is on CUDA; `BackendChoice`), the sample
/// shard it trains on, DistributedDataParallel's gradient reducer, and the heartbeat watchdog.
///
/// Every rank holds the whole model and trains on its own slice of each global batch; gradients
/// are averaged during backward, so all ranks take the same optimizer step and stay identical.
public final class DataParallel {
    public let environment: DistributedEnvironment
    /// The rendezvous store (rank 0 serves it); `awaitMain` waits through it.
    let store: TCPStore
    public let group: ProcessGroup
    /// What carries the CUDA collectives, and why.
    public let backend: BackendChoice
    let heartbeat: Heartbeat

    public var rank: Int { environment.rank }
    public var worldSize: Int { environment.worldSize }
    public var isMain: Bool { environment.isMain }

    /// Rendezvous at `MASTER_ADDR:MASTER_PORT` (rank 0 serves the store), agrees on the backend with the
    /// other ranks (this one trains on `device`) and builds the group. Waits at most `timeout` seconds for
    /// the other ranks, then throws naming how many came.
    public static func join(_ env: DistributedEnvironment, timeout: Double, device: Device = .cpu) throws -> DataParallel {
        let address = "\(env.masterAddr):\(env.masterPort)"
        let store: TCPStore
        do {
            store = try TCPStore(host: env.masterAddr, port: env.masterPort, isServer: env.isMain,
                                 worldSize: env.worldSize, timeout: timeout)
        } catch {
            throw DistributedError.rendezvous(rank: env.rank, worldSize: env.worldSize, address: address,
                                              timeout: timeout, underlying: "\(error)")
        }
        let group: ProcessGroup, backend: BackendChoice
        do {
            backend = try BackendChoice.agree(store: store, offer: .local(device: device), worldSize: env.worldSize,
                                              timeout: timeout)
            group = try ProcessGroup.make(store: store, rank: env.rank, size: env.worldSize, timeout: timeout,
                                          cuda: backend.backend)
        } catch {
            throw DistributedError.rendezvous(rank: env.rank, worldSize: env.worldSize, address: address,
                                              timeout: timeout, underlying: "\(error)")
        }
        // Its own connection, so a beat never queues behind the group's traffic.
        let watchStore = try TCPStore(host: env.masterAddr, port: env.masterPort, isServer: false, worldSize: 0,
                                      timeout: 10)
        let heartbeat = Heartbeat(store: watchStore, rank: env.rank, worldSize: env.worldSize, rendezvous: address)
        heartbeat.start()
        return DataParallel(environment: env, store: store, group: group, backend: backend, heartbeat: heartbeat)
    }

    init(environment: DistributedEnvironment, store: TCPStore, group: ProcessGroup, backend: BackendChoice,
         heartbeat: Heartbeat) {
        self.environment = environment
        self.store = store
        self.group = group
        self.backend = backend
        self.heartbeat = heartbeat
    }

    /// This rank's part of each global batch (`lengths`: positions per sample). Together the ranks
    /// train on exactly the samples one process with W times the batch would, so the summed
    /// gradient is the same. Each rank pads to its own longest sample and all wait for the slowest
    /// at the all-reduce, so samples are dealt longest first to the rank with the fewest positions
    /// so far. A batch with fewer samples than ranks is topped up by repeating its samples (as
    /// torch's DistributedSampler pads), since every rank must take part in every step.
    public func shard(_ batches: [[Int]], lengths: [Int]) -> [[Int]] {
        batches.map { Self.shard($0, lengths: lengths, rank: rank, worldSize: worldSize) }
    }

    static func shard(_ batch: [Int], lengths: [Int], rank: Int, worldSize: Int) -> [Int] {
        guard !batch.isEmpty else { return [] }
        let padded = batch.count >= worldSize ? batch : (0 ..< worldSize).map { batch[$0 % batch.count] }
        var load = [Int](repeating: 0, count: worldSize), owner = [Int](repeating: 0, count: padded.count)
        // Longest first; ties keep batch order, and go to the lowest rank, so every rank computes the same deal.
        for slot in padded.indices.sorted(by: { (lengths[padded[$0]], $1) > (lengths[padded[$1]], $0) }) {
            let r = load.indices.min { (load[$0], $0) < (load[$1], $1) }!
            owner[slot] = r
            load[r] += lengths[padded[slot]]
        }
        return padded.indices.filter { owner[$0] == rank }.map { padded[$0] }
    }

    /// Element-wise sums over all ranks (target counts, loss terms, flags).
    public func sum(_ values: [Double]) throws -> [Double] {
        let t = try Tensor(values)
        try group.allReduceSum(t)
        return try t.toArray(Double.self)
    }

    /// Every rank must train the same model on the same data with the same settings, or the
    /// collectives would pair up the wrong tensors. Compares `facts` with rank 0's and throws on
    /// every rank when any rank differs, naming what differs.
    public func checkSameRun(_ facts: KeyValuePairs<String, Double>) throws {
        let main = try Tensor(facts.map(\.value))
        try group.broadcast(main, from: 0)
        let differing = try zip(facts, main.toArray(Double.self)).filter { $0.0.value != $0.1 }
            .map { "\($0.0.key) \(Self.number($0.0.value)) (rank 0: \(Self.number($0.1)))" }
        var flags = [Double](repeating: 0, count: worldSize)
        flags[rank] = differing.isEmpty ? 0 : 1
        let counts = try sum(flags)
        let ranks = counts.indices.filter { counts[$0] > 0 }
        guard ranks.isEmpty else {
            throw ConfigError(differing.isEmpty
                ? "rank \(rank): rank(s) \(ranks.map(String.init).joined(separator: ", ")) train something else than rank 0 (see their messages)"
                : "rank \(rank) trains something else than rank 0: " + differing.joined(separator: ", ")
                    + "; every rank needs the same --preprocessed_path data, model and settings")
        }
    }

    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }

    /// Overwrites the tensors with rank 0's, so every rank starts from the same weights.
    public func broadcastFromMain(_ tensors: [Tensor]) throws {
        try withNoGrad { for t in tensors { try group.broadcast(t, from: 0) } }
    }

    /// How the ranks' gradients are averaged: during backward by DDP's reducer, or after it when
    /// backward recomputes activations (the reducer cannot follow parameters used inside a
    /// recomputation).
    public func gradientSync(_ parameters: [Tensor], recomputing: Bool) throws -> GradientSync {
        recomputing ? .afterBackward(BucketedAllReduce(parameters: parameters, group: group))
            : .duringBackward(try GradientReducer(parameters: parameters, group: group))
    }

    /// Work that rank 0 does alone and that may take longer than --ddp_timeout (the speech evaluation: minutes of
    /// generation and transcription): rank 0 calls this when it is done, every other rank calls it to wait for
    /// that, `point` naming the same place on every rank. The others wait by polling the rendezvous store, not in
    /// a collective, so the wait has no time limit; a rank 0 that dies still stops them (the heartbeat, ~10 s).
    public func awaitMain(after point: String) throws {
        try Self.awaitMain(store: store, isMain: isMain, key: "csm/main_done/\(point)")
    }

    static func awaitMain(store: TCPStore, isMain: Bool, key: String, poll: Double = 0.1) throws {
        if isMain { try store.add(key, 1); return }
        while try store.add(key, 0) == 0 { Thread.sleep(forTimeInterval: poll) }
    }

    /// Tells the peers this rank ends normally, and stops watching them.
    public func finish() { heartbeat.stop(finished: true) }

    /// Stops watching the peers before leaving on an error every rank meets at the same point
    /// (so none reports the others' exit as a failure); a rank failing alone gets named by them.
    public func stopWatching() { heartbeat.stop(finished: false) }

    /// A collective failed, usually because a peer died: waits for the watchdog to say which one
    /// (it then ends the process itself), else returns the error as it stands.
    public func explain(_ error: Error) -> Error {
        let deadline = Date().addingTimeInterval(heartbeat.deadAfter + 3 * heartbeat.interval + 2)
        while heartbeat.verdict == nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if let verdict = heartbeat.verdict { return DistributedError.peerFailed(verdict) }
        return error
    }
}

public enum GradientSync: CustomStringConvertible {
    case duringBackward(GradientReducer)
    case afterBackward(BucketedAllReduce)

    public var description: String {
        switch self {
        case .duringBackward: return "during backward (DDP's reducer)"
        case .afterBackward: return "after backward (MLPs are recomputed)"
        }
    }
}

public enum DistributedError: Error, CustomStringConvertible {
    case rendezvous(rank: Int, worldSize: Int, address: String, timeout: Double, underlying: String)
    case peerFailed(String)

    public var description: String {
        switch self {
        case .rendezvous(let rank, let size, let address, let timeout, let underlying):
            return "rank \(rank) of \(size): could not form the process group at \(address) within \(Int(timeout)) s "
                + "(--ddp_timeout): check that all \(size) ranks were started with the same MASTER_ADDR:MASTER_PORT "
                + "and that rank 0 is reachable. \(underlying)"
        case .peerFailed(let verdict): return verdict
        }
    }
}
