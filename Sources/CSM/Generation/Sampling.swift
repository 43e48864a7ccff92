import Foundation

/// How one decoder picks its next code: transformers' `do_sample`, `temperature`, `top_k`.
public struct Sampling: Equatable, Sendable {
    /// false: argmax (greedy); true: temperature, then top-k, then a draw from the softmax.
    public var doSample: Bool
    public var temperature: Double
    /// 0 disables the top-k filter (as transformers).
    public var topK: Int

    /// CSM-1B's `generation_config.json`: sampling with top-k 50 at temperature 0.9.
    public static let csmDefault = Sampling(doSample: true, temperature: 0.9, topK: 50)
    public static let greedy = Sampling(doSample: false, temperature: 1, topK: 0)

    public init(doSample: Bool, temperature: Double, topK: Int) {
        self.doSample = doSample
        self.temperature = temperature
        self.topK = topK
    }

    func validate(_ name: String) throws {
        guard temperature > 0, temperature.isFinite else {
            throw GenerationError.invalidSetting("\(name) temperature must be a positive number, got \(temperature)")
        }
        guard topK >= 0 else { throw GenerationError.invalidSetting("\(name) top-k must be ≥ 0, got \(topK)") }
    }
}

/// The backbone's and the depth decoder's sampling, as `CsmForConditionalGeneration.from_pretrained` splits
/// `generation_config.json`: plain keys for the backbone, `depth_decoder_`-prefixed keys for the depth decoder.
public struct GenerationSettings: Equatable, Sendable {
    public var backbone: Sampling
    public var depthDecoder: Sampling

    public init(backbone: Sampling = .csmDefault, depthDecoder: Sampling = .csmDefault) {
        self.backbone = backbone
        self.depthDecoder = depthDecoder
    }

    /// Reads `generation_config.json` of a model folder. A field the file does not set takes CSM-1B's value
    /// (sampling, temperature 0.9, top-k 50), so a folder without the file still speaks like CSM-1B.
    public static func load(folder: URL) throws -> GenerationSettings {
        let url = folder.appendingPathComponent("generation_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return GenerationSettings() }
        guard let json = try? JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw GenerationError.invalidSetting("\(url.path) is not a JSON object; fix or delete it")
        }
        func sampling(_ prefix: String) -> Sampling {
            let d = Sampling.csmDefault
            return Sampling(doSample: json[prefix + "do_sample"] as? Bool ?? d.doSample,
                            temperature: (json[prefix + "temperature"] as? NSNumber)?.doubleValue ?? d.temperature,
                            topK: (json[prefix + "top_k"] as? NSNumber)?.intValue ?? d.topK)
        }
        let settings = GenerationSettings(backbone: sampling(""), depthDecoder: sampling("depth_decoder_"))
        try settings.backbone.validate("\(url.path):")
        try settings.depthDecoder.validate("\(url.path): depth_decoder_")
        return settings
    }

    /// Command-line overrides apply to both decoders (as Sesame's generator); either one turns sampling on.
    public func overriding(temperature: Double?, topK: Int?) throws -> GenerationSettings {
        var out = self
        for path in [\GenerationSettings.backbone, \GenerationSettings.depthDecoder] {
            if let temperature { out[keyPath: path].temperature = temperature; out[keyPath: path].doSample = true }
            if let topK { out[keyPath: path].topK = topK; out[keyPath: path].doSample = true }
        }
        try out.backbone.validate("--")
        try out.depthDecoder.validate("--")
        return out
    }
}
