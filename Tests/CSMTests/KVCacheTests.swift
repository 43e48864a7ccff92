import Testing
import Torch
@testable import CSM
import TestSupport

/// Incremental decoding with KV caches (what generation will do) gives the full forward pass's states.
@Suite struct KVCacheTests {
    @Test func backboneStepByStep() throws {
        let model = try Fixture.model()
        let batch = try CSMBatch(samples: [Fixture.samples[0]], config: model.config)
        try withNoGrad {
            let embeds = try model.embed(batch)
            let full = try model.backboneModel(inputsEmbeds: embeds, mask: nil)
            let t = batch.length, prefix = t - 3
            let caches = model.backboneModel.layers.map { _ in KVCache() }
            var parts = [try model.backboneModel(inputsEmbeds: embeds.narrow(1, 0, prefix), mask: nil, caches: caches)]
            for i in prefix..<t {
                parts.append(try model.backboneModel(inputsEmbeds: embeds.narrow(1, i, 1), mask: nil, caches: caches))
            }
            #expect(caches[0].count == t)
            #expect(parity("KVCacheTests.backbone", try relativeError(Tensor.cat(parts, dim: 1), full), Tolerance.f32Reordered))
        }
    }

    /// A padded batch continued with a cache: the explicit mask keeps padding out.
    @Test func paddedBatchWithCache() throws {
        let model = try Fixture.model()
        let samples = Fixture.samples
        let batch = try CSMBatch(samples: samples, config: model.config)
        try withNoGrad {
            let embeds = try model.embed(batch)
            let t = batch.length, prefix = t - 2
            let caches = model.backboneModel.layers.map { _ in KVCache() }
            var valid = batch.valid.map { Array($0.prefix(prefix)) }
            _ = try model.backboneModel(inputsEmbeds: embeds.narrow(1, 0, prefix),
                                        mask: attentionMask(cached: 0, new: prefix, keyValid: valid, device: .cpu),
                                        caches: caches)
            var last: Tensor?
            for i in prefix..<t {
                valid = zip(valid, batch.valid).map { $0 + [$1[i]] }
                last = try model.backboneModel(inputsEmbeds: embeds.narrow(1, i, 1),
                                               mask: attentionMask(cached: i, new: 1, keyValid: valid, device: .cpu),
                                               caches: caches)
            }
            // the longest row's last position equals its unpadded forward
            let row = batch.layouts.firstIndex { $0.count == t }!
            let alone = try CSMBatch(samples: [samples[row]], config: model.config)
            let want = try model.backboneModel(inputsEmbeds: model.embed(alone), mask: nil).narrow(1, t - 1, 1)
            #expect(parity("KVCacheTests.padded_batch", try relativeError(last!.select(0, row).unsqueeze(0), want),
                           Tolerance.f32Reordered))
        }
    }

    @Test func depthDecoderStepByStep() throws {
        let model = try Fixture.model()
        let k = model.config.numCodebooks
        let hidden = try Tensor.randn([3, model.config.backbone.hiddenSize])
        let codes = try Tensor.randint(0, model.config.vocabSize, [3, k - 1])
        try withNoGrad {
            let ids = try codes.pad([1, 0], value: 0)
            let dd = model.depthDecoder.model
            let full = try dd(inputIds: ids, backboneLastHidden: hidden)
            let caches = dd.layers.map { _ in KVCache() }
            var parts = [try dd(inputIds: ids.narrow(1, 0, 2), backboneLastHidden: hidden, caches: caches)]
            for i in 2..<k { parts.append(try dd(inputIds: ids.narrow(1, i, 1), backboneLastHidden: nil, caches: caches)) }
            #expect(parity("KVCacheTests.depth_decoder", try relativeError(Tensor.cat(parts, dim: 1), full),
                           Tolerance.f32Reordered))
        }
    }

    /// Static buffers written in place (generation's caches) give what the growing cache gives, bit for bit; a
    /// reset cache is reused from position 0, and writing past the capacity throws.
    @Test func staticBuffersEqualGrowingCache() throws {
        let model = try Fixture.model()
        let batch = try CSMBatch(samples: [Fixture.samples[0]], config: model.config)
        try withNoGrad {
            let embeds = try model.embed(batch)
            let t = batch.length, prefix = t - 4
            func stepByStep(_ caches: [KVCache]) throws -> Tensor {
                var parts = [try model.backboneModel(inputsEmbeds: embeds.narrow(1, 0, prefix), mask: nil, caches: caches)]
                for i in prefix..<t {
                    parts.append(try model.backboneModel(inputsEmbeds: embeds.narrow(1, i, 1), mask: nil, caches: caches))
                }
                return try Tensor.cat(parts, dim: 1)
            }
            let growing = try stepByStep(model.backboneModel.layers.map { _ in KVCache() })
            let caches = model.backboneModel.layers.map { _ in KVCache(capacity: t) }
            let first = try stepByStep(caches)
            #expect(caches[0].count == t)
            #expect(try first.toArray(Float.self) == growing.toArray(Float.self))
            for cache in caches { cache.reset() }
            #expect(caches[0].count == 0)
            #expect(try stepByStep(caches).toArray(Float.self) == growing.toArray(Float.self))
            #expect(throws: TorchError.self) {
                try model.backboneModel(inputsEmbeds: embeds.narrow(1, 0, 1), mask: nil, caches: caches)
            }
        }
    }
}
