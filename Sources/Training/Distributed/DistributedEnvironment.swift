import Foundation

/// Where this process sits in a multi-process run, from the variables torchrun sets (and a SLURM
/// script exports, see the README): `RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`, `MASTER_PORT`.
/// Other modules get one from `fromEnvironment`; this one (LocalLauncher) also uses the memberwise init.
public struct DistributedEnvironment: Equatable, Sendable {
    public var rank: Int
    public var worldSize: Int
    /// The rank among the processes of this machine: picks the GPU (`cuda:LOCAL_RANK`).
    public var localRank: Int
    /// Host and port of the rendezvous store, which rank 0 serves.
    public var masterAddr: String
    public var masterPort: Int

    public var isMain: Bool { rank == 0 }

    /// nil for a single process (`WORLD_SIZE` unset, or 1 without the other variables); otherwise every
    /// variable must be valid. A world of one with them (torchrun's `--nproc-per-node 1`, `csm train --nproc 1`)
    /// still forms a process group: the same run through c10d.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> DistributedEnvironment? {
        guard let world = env["WORLD_SIZE"] else { return nil }
        func int(_ name: String, _ value: String?) throws -> Int {
            guard let value else { throw ConfigError("WORLD_SIZE=\(world) is set but \(name) is not (launch with csm train --nproc N, torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)") }
            guard let n = Int(value.trimmingCharacters(in: .whitespaces)) else { throw ConfigError("\(name)=\(value) is not an integer") }
            return n
        }
        let size = try int("WORLD_SIZE", world)
        guard size >= 1 else { throw ConfigError("WORLD_SIZE=\(world) must be at least 1") }
        if size == 1 && env["RANK"] == nil && env["MASTER_ADDR"] == nil { return nil }
        let rank = try int("RANK", env["RANK"])
        guard (0 ..< size).contains(rank) else { throw ConfigError("RANK=\(rank) must be in 0..<WORLD_SIZE (\(size))") }
        let port = try int("MASTER_PORT", env["MASTER_PORT"])
        guard (1 ... 65535).contains(port) else { throw ConfigError("MASTER_PORT=\(port) is not a TCP port") }
        guard let addr = env["MASTER_ADDR"], !addr.isEmpty else {
            throw ConfigError("WORLD_SIZE=\(world) is set but MASTER_ADDR is not (the host of rank 0)")
        }
        let local = try env["LOCAL_RANK"].map { try int("LOCAL_RANK", $0) } ?? rank
        return DistributedEnvironment(rank: rank, worldSize: size, localRank: local, masterAddr: addr, masterPort: port)
    }

    /// The variables a child process needs to take this place (what torchrun exports).
    public var variables: [String: String] {
        ["RANK": "\(rank)", "WORLD_SIZE": "\(worldSize)", "LOCAL_RANK": "\(localRank)",
         "MASTER_ADDR": masterAddr, "MASTER_PORT": "\(masterPort)"]
    }
}
