import Audio
import Foundation
import Torch

/// Speaker embeddings (x-vectors) of clips with a `WavLMForXVector` checkpoint folder (config.json,
/// preprocessor_config.json, model.safetensors), e.g. `microsoft/wavlm-base-plus-sv`:
///
///     let encoder = try SpeakerEncoder(folder: folder)
///     let vectors = try encoder.embed(clips, sampleRate: 24_000)
///     let score = SpeakerEncoder.similarity(vectors[0], reference: Array(vectors[1...]))
///
/// Each clip is resampled to the model's rate with Sources/Audio's resampler, normalised as
/// `Wav2Vec2FeatureExtractor` does when `do_normalize` is set, and embedded on its own terms: clips are batched
/// (longest first, padded) for speed, but a clip's x-vector is the one it gets alone, as transformers at batch 1.
public final class SpeakerEncoder {
    public let config: WavLMConfig
    public let preprocessing: Wav2Vec2FeatureExtractorConfig
    public let device: Device
    public let dtype: DType
    let model: WavLMForXVector
    /// Bytes held by the model's weights (what loading it costs in device memory, activations aside).
    public let parameterBytes: Int
    /// Clips are grouped, longest first, so that a batch holds at most this many padded samples (20 s at 16 kHz by
    /// default: on a CPU, 60 s of 2–10 s clips took 25 s in batches of 20 s against 51 s in batches of 80 s, whose
    /// padding is wasted work; BENCHMARKS.md).
    public var maxBatchSamples = 320_000

    public init(folder: URL, device: Device = .cpu, dtype: DType = .f32) throws {
        func json<T: Decodable>(_ name: String, _ type: T.Type) throws -> T {
            let file = folder.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: file) else {
                throw WavLMError.cannotLoad("\(file.path) is missing or unreadable: pass a WavLMForXVector folder "
                    + "(config.json, preprocessor_config.json, model.safetensors), e.g. microsoft/wavlm-base-plus-sv")
            }
            do { return try JSONDecoder().decode(T.self, from: data) } catch let error as WavLMError {
                throw WavLMError.invalidConfig("\(file.path): \(error)")
            } catch { throw WavLMError.cannotLoad("\(file.path): \(error)") }
        }
        let raw = try? JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("config.json")))
        if let raw = raw as? [String: Any], let type = raw["model_type"] as? String, type != "wavlm" {
            throw WavLMError.cannotLoad("\(folder.path)/config.json is a '\(type)' model: --speaker_model needs a "
                + "WavLMForXVector checkpoint such as microsoft/wavlm-base-plus-sv")
        }
        config = try json("config.json", WavLMConfig.self)
        preprocessing = try json("preprocessor_config.json", Wav2Vec2FeatureExtractorConfig.self)
        guard preprocessing.featureSize == 1 else {
            throw WavLMError.invalidConfig("\(folder.path)/preprocessor_config.json: feature_size must be 1 (mono)")
        }
        let store = try WeightStore(folder: folder)
        guard store.contains("projector.weight") else {
            throw WavLMError.cannotLoad("\(folder.path)/model.safetensors has no 'projector.weight': it is not a "
                + "WavLMForXVector checkpoint (a speaker-verification head is needed, e.g. microsoft/wavlm-base-plus-sv)")
        }
        let vb = VarBuilder(store: store, dtype: dtype, device: device)
        model = try WavLMForXVector(vb, config: config)
        parameterBytes = vb.parameters.all.reduce(0) { $0 + $1.tensor.count * $1.tensor.dtype.byteSize }
        self.device = device
        self.dtype = dtype
    }

    /// The model's input for one clip at `sampleRate`: resampled to the model's rate, then (with `do_normalize`)
    /// (x − mean) / sqrt(var + 1e-7) over the clip, as `Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm`.
    public func inputValues(_ clip: [Float], sampleRate: Int) throws -> [Float] {
        var x = clip
        if sampleRate != preprocessing.samplingRate {
            x = try Resampler.resample(x, from: Double(sampleRate), to: Double(preprocessing.samplingRate))
        }
        guard preprocessing.doNormalize, !x.isEmpty else { return x }
        let n = Double(x.count)
        let mean = x.reduce(0.0) { $0 + Double($1) } / n
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        let scale = 1 / (variance + 1e-7).squareRoot()
        return x.map { Float((Double($0) - mean) * scale) }
    }

    /// One x-vector (`embeddings`, not normalised) per clip, in the clips' order.
    public func embed(_ clips: [[Float]], sampleRate: Int) throws -> [[Float]] {
        let inputs = try clips.map { try inputValues($0, sampleRate: sampleRate) }
        for (i, x) in inputs.enumerated() where x.count < config.minimumSamples {
            throw WavLMError.badInput("clip \(i) has \(x.count) samples at \(preprocessing.samplingRate) Hz; this model "
                + "needs at least \(config.minimumSamples) (\(config.minimumSamples * 1000 / preprocessing.samplingRate) ms)")
        }
        var result = [[Float]](repeating: [], count: clips.count)
        for batch in batches(lengths: inputs.map(\.count)) {
            let width = inputs[batch[0]].count
            var flat = [Float](repeating: 0, count: batch.count * width)
            for (row, i) in batch.enumerated() {
                flat.replaceSubrange(row * width..<row * width + inputs[i].count, with: inputs[i])
            }
            let waveform = try Tensor(flat, shape: [batch.count, width]).to(device, dtype: dtype)
            let embeddings = try withNoGrad { try model(waveform, lengths: batch.map { inputs[$0].count }).embeddings }
            let values = try embeddings.to(.cpu, dtype: .f32).toArray(Float.self), dim = embeddings.size(1)
            for (row, i) in batch.enumerated() { result[i] = Array(values[row * dim..<(row + 1) * dim]) }
        }
        return result
    }

    /// Clip indices, longest first, cut into batches of at most `maxBatchSamples` padded samples (at least one clip).
    func batches(lengths: [Int]) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] }
        var batches: [[Int]] = []
        for i in order {
            if let last = batches.last, (last.count + 1) * lengths[last[0]] <= maxBatchSamples {
                batches[batches.count - 1].append(i)
            } else {
                batches.append([i])
            }
        }
        return batches
    }

    /// Cosine similarity of `embedding` with the reference speaker, as transformers' speaker-verification example:
    /// every embedding L2-normalised, the reference the mean of its clips' normalised embeddings, then
    /// `torch.nn.CosineSimilarity(dim=-1)` (eps 1e-8).
    public static func similarity(_ embedding: [Float], reference: [[Float]]) -> Double {
        precondition(!reference.isEmpty, "similarity needs at least one reference embedding")
        let x = normalized(embedding)
        var mean = [Double](repeating: 0, count: x.count)
        for r in reference { for (i, v) in normalized(r).enumerated() { mean[i] += v / Double(reference.count) } }
        return cosine(x, mean)
    }

    /// `torch.nn.functional.normalize(x, dim=-1)`: x / max(‖x‖, 1e-12).
    static func normalized(_ x: [Float]) -> [Double] {
        let v = x.map(Double.init)
        let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return v.map { $0 / norm }
    }

    /// `torch.nn.CosineSimilarity(dim=-1, eps=1e-8)`.
    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return dot / max(na * nb, 1e-8)
    }
}
