import Foundation
import Testing
import Torch
@testable import Training

/// The pure parts of data-parallel training: torchrun's variables and the per-rank sample shards.
struct DistributedTests {
    @Test func readsTorchrunVariables() throws {
        #expect(try DistributedEnvironment.fromEnvironment([:]) == nil)
        #expect(try DistributedEnvironment.fromEnvironment(["WORLD_SIZE": "1"]) == nil)
        // torchrun --nproc-per-node 1 (and csm train --nproc 1): a group of one.
        let one = ["WORLD_SIZE": "1", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"]
        #expect(try DistributedEnvironment.fromEnvironment(one)?.worldSize == 1)
        let env = try #require(try DistributedEnvironment.fromEnvironment(
            ["WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", "MASTER_ADDR": "node7", "MASTER_PORT": "29500"]))
        #expect(env == DistributedEnvironment(rank: 3, worldSize: 4, localRank: 1, masterAddr: "node7", masterPort: 29500))
        #expect(try DistributedEnvironment.fromEnvironment(env.variables) == env)
        #expect(!env.isMain)
    }

    @Test func badVariablesSayWhichOne() {
        let base = ["WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "localhost", "MASTER_PORT": "29500"]
        let cases: [([String: String], String)] = [
            (base.merging(["RANK": "2"]) { $1 }, "RANK=2 must be in 0..<WORLD_SIZE"),
            (base.filter { $0.key != "RANK" }, "RANK is not"),
            (base.filter { $0.key != "MASTER_ADDR" }, "MASTER_ADDR is not"),
            (base.merging(["MASTER_PORT": "http"]) { $1 }, "MASTER_PORT=http is not an integer"),
            (base.merging(["MASTER_PORT": "70000"]) { $1 }, "not a TCP port"),
            (base.merging(["WORLD_SIZE": "0"]) { $1 }, "must be at least 1"),
        ]
        for (env, message) in cases {
            #expect(throws: ConfigError.self) { try DistributedEnvironment.fromEnvironment(env) }
            do { _ = try DistributedEnvironment.fromEnvironment(env) } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    @Test func shardsSplitEachBatchEvenly() {
        let lengths = (0 ..< 200).map { 50 + ($0 * 37) % 300 }
        for n in 1 ... 9 {
            let batch = Array(100 ..< 100 + n)
            let parts = (0 ..< 3).map { DataParallel.shard(batch, lengths: lengths, rank: $0, worldSize: 3) }
            #expect(parts.allSatisfy { !$0.isEmpty }, "n=\(n)")
            if n >= 3 {  // together exactly the batch, each part in batch order
                #expect(Array(parts.joined()).sorted() == batch)
                #expect(parts.allSatisfy { $0 == $0.sorted() })
            } else {  // topped up by repeating samples
                #expect(Set(parts.joined()) == Set(batch))
            }
        }
        // Longest first to the least loaded rank: one long sample against three short ones.
        let skewed = [0: 400, 1: 100, 2: 100, 3: 100]
        let l = (0 ..< 4).map { skewed[$0]! }
        #expect(DataParallel.shard([1, 0, 2, 3], lengths: l, rank: 0, worldSize: 2) == [0])
        #expect(DataParallel.shard([1, 0, 2, 3], lengths: l, rank: 1, worldSize: 2) == [1, 2, 3])
        // Equal lengths: dealt alternately in batch order.
        #expect(DataParallel.shard([5, 6, 7, 8], lengths: Array(repeating: 10, count: 9), rank: 1, worldSize: 2) == [6, 8])
    }

    @Test func launcherDropsItsOwnFlag() {
        #expect(LocalLauncher.withoutNproc(["train", "--nproc", "2", "--batch_size", "1", "--nproc=3"])
            == ["train", "--batch_size", "1"])
    }

    /// NCCL only when every rank is on CUDA with NCCL; otherwise Gloo, saying why.
    @Test func ncclOnlyWhenEveryRankIsOnCUDAWithNCCL() {
        let nccl = BackendChoice.decide(cudaRanks: 2, ncclRanks: 2, worldSize: 2, local: .cudaWithNCCL("2.28.9"))
        #expect(nccl.backend == .nccl && nccl.reason.contains("every rank on CUDA, NCCL 2.28.9"), "\(nccl)")
        let cpu = BackendChoice.decide(cudaRanks: 1, ncclRanks: 1, worldSize: 2, local: .cudaWithNCCL(nil))
        #expect(cpu.backend == .gloo && cpu.reason == "1 of 2 rank(s) on the CPU", "\(cpu)")
        let lacking = BackendChoice.decide(cudaRanks: 2, ncclRanks: 1, worldSize: 2, local: .cudaWithoutNCCL("no companion"))
        #expect(lacking.backend == .gloo && lacking.reason == "1 of 2 CUDA rank(s) cannot use NCCL; this rank: no companion",
                "\(lacking)")
        #expect(BackendChoice.decide(cudaRanks: 0, ncclRanks: 0, worldSize: 1, local: .cpu).backend == .gloo)
        #expect(BackendChoice.Offer.local(device: .cpu) == .cpu)  // never asks the CUDA companion
    }

    /// What the other ranks do while rank 0 evaluates speech alone: wait through the store until rank 0 says it is
    /// done, however long past their store's (and --ddp_timeout's) time limit that is.
    @Test func ranksWaitForRankZeroPastTheTimeout() throws {
        let port = try LocalLauncher.freePort()
        let server = try TCPStore(host: "127.0.0.1", port: port, isServer: true, worldSize: 1, timeout: 1)
        let client = try TCPStore(host: "127.0.0.1", port: port, isServer: false, worldSize: 0, timeout: 1)
        let started = Date(), done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var waited: Result<Double, Error>?
        Thread {
            waited = Result { try DataParallel.awaitMain(store: client, isMain: false, key: "k", poll: 0.02)
                return Date().timeIntervalSince(started) }
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 1.5)  // rank 0 "evaluates" past the 1 s limit
        #expect(done.wait(timeout: .now()) == .timedOut, "rank 1 stopped waiting before rank 0 was done")
        try DataParallel.awaitMain(store: server, isMain: true, key: "k")
        #expect(done.wait(timeout: .now() + 10) == .success)
        let seconds = try #require(try waited?.get())
        #expect(seconds >= 1.5 && seconds < 5)
    }

    /// The ranks agree through the store: a world of one on the CPU forms a Gloo group and all-reduces.
    @Test func aWorldOfOneOnTheCPUAgreesOnGloo() throws {
        let port = try LocalLauncher.freePort()
        let store = try TCPStore(host: "127.0.0.1", port: port, isServer: true, worldSize: 1, timeout: 30)
        let choice = try BackendChoice.agree(store: store, offer: .cpu, worldSize: 1, timeout: 30)
        #expect(choice.backend == .gloo && choice.reason == "1 of 1 rank(s) on the CPU")
        let group = try ProcessGroup.make(store: store, rank: 0, size: 1, timeout: 30, cuda: choice.backend)
        let t = try Tensor([1.0, 2.0])
        try group.allReduceSum(t)
        #expect(try t.toArray(Double.self) == [1.0, 2.0] && group.cudaBackend == .gloo)
    }
}
