import Torch

/// HF `MimiEuclideanCodebook` (keys `codebook.embed_sum`, `codebook.cluster_usage`): the codewords are the
/// running sums divided by their usage counts, `embed_sum / cluster_usage.clamp(min: 1e-5)`.
final class MimiEuclideanCodebook {
    /// (codebookSize, dim).
    let embed: Tensor
    /// `[embed | 1 | ‖embed‖²]`, laid out (dim + 2, codebookSize): the right operand of the one matmul
    /// `torch.cdist` computes squared distances with (`_euclidean_dist`), built once instead of per call.
    private let augmentedEmbedT: Tensor

    init(_ vb: VarBuilder, config: MimiConfig, epsilon: Double = 1e-5) throws {
        let size = config.codebookSize, dim = config.codebookDim
        let embedSum = try vb.get("embed_sum", shape: [size, dim])
        let usage = try vb.get("cluster_usage", shape: [size])
        embed = try (embedSum / usage.clamp(min: epsilon).unsqueeze(1)).contiguous()
        let norms = try embed.pow(2).sum(-1, keepDim: true)
        augmentedEmbedT = try Tensor.cat([embed, Tensor.ones([size, 1], device: embed.device), norms], dim: -1).transpose(0, 1).contiguous()
    }

    /// Index of the nearest codeword (euclidean) for each row of `x` (n, dim), as HF `quantize`:
    /// `cdist(x, embed).argmin(-1)` where cdist is `sqrt(clamp_min([-2x | ‖x‖² | 1] · [e | 1 | ‖e‖²]ᵀ, 0))`.
    /// The same squared distances, bit for bit; the square root is left out since it cannot change which is
    /// smallest (it could only merge two values one float apart into a tie).
    func encode(_ x: Tensor) throws -> Tensor {
        let norms = try x.pow(2).sum(-1, keepDim: true)
        let augmented = try Tensor.cat([x * -2.0, norms, Tensor.ones([x.size(0), 1], device: x.device)], dim: -1)
        return try augmented.matmul(augmentedEmbedT).clamp(min: 0).argmin(-1)
    }

    /// Codewords of `indices` (any shape) → (…, dim).
    func decode(_ indices: Tensor) throws -> Tensor { try embed.embedding(indices) }
}

/// HF `MimiResidualVectorQuantizer`: optional 1×1 input/output projections (bias-free convs) around a stack of
/// codebooks, each quantizing what the previous ones left.
final class MimiResidualVectorQuantizer {
    let layers: [MimiEuclideanCodebook]
    let inputProj: Tensor?
    let outputProj: Tensor?

    init(_ vb: VarBuilder, config: MimiConfig, numQuantizers: Int) throws {
        layers = try (0..<numQuantizers).map {
            try MimiEuclideanCodebook(vb.pp("layers").pp($0).pp("codebook"), config: config)
        }
        let hidden = config.hiddenSize, dim = config.vectorQuantizationHiddenDimension
        if dim != hidden {
            inputProj = try vb.pp("input_proj").get("weight", shape: [dim, hidden, 1])
            outputProj = try vb.pp("output_proj").get("weight", shape: [hidden, dim, 1])
        } else {
            inputProj = nil
            outputProj = nil
        }
    }

    /// `latents` (batch, hidden, frames) → codes (numQuantizers, batch, frames).
    func encode(_ latents: Tensor, numQuantizers: Int) throws -> Tensor {
        let projected = try inputProj.map { try latents.conv1d($0) } ?? latents
        let (batch, dim, frames) = (projected.size(0), projected.size(1), projected.size(2))
        // (batch·frames, dim) rows, the layout HF quantizes in.
        var residual = try projected.transpose(1, 2).reshape([batch * frames, dim])
        var codes: [Tensor] = []
        for codebook in layers.prefix(numQuantizers) {
            let indices = try codebook.encode(residual)
            residual = try residual - codebook.decode(indices)
            codes.append(try indices.view([batch, frames]))
        }
        return try Tensor.stack(codes)
    }

    /// codes (batch, k, frames) → (batch, hidden, frames): the sum of the codewords, projected.
    func decode(_ codes: Tensor) throws -> Tensor {
        var sum: Tensor?
        for i in 0..<codes.size(1) {
            let quantized = try layers[i].decode(codes.select(1, i)).transpose(1, 2)  // (batch, dim, frames)
            sum = try sum.map { try $0 + quantized } ?? quantized
        }
        guard let sum else { throw MimiError.badInput("no codebooks to decode") }
        return try outputProj.map { try sum.conv1d($0) } ?? sum
    }
}

/// HF `MimiSplitResidualVectorQuantizer` (key `quantizer.`): the first `num_semantic_quantizers` codes come from
/// a semantic RVQ, the rest from an acoustic RVQ; both quantize the same latents and their decodings add up.
final class MimiSplitResidualVectorQuantizer {
    let semanticResidualVectorQuantizer: MimiResidualVectorQuantizer
    let acousticResidualVectorQuantizer: MimiResidualVectorQuantizer
    let numSemanticQuantizers: Int
    let maxNumQuantizers: Int

    init(_ vb: VarBuilder, config: MimiConfig) throws {
        numSemanticQuantizers = config.numSemanticQuantizers
        maxNumQuantizers = config.numQuantizers
        semanticResidualVectorQuantizer = try MimiResidualVectorQuantizer(
            vb.pp("semantic_residual_vector_quantizer"), config: config, numQuantizers: numSemanticQuantizers)
        acousticResidualVectorQuantizer = try MimiResidualVectorQuantizer(
            vb.pp("acoustic_residual_vector_quantizer"), config: config,
            numQuantizers: config.numQuantizers - numSemanticQuantizers)
    }

    /// `latents` (batch, hidden, frames) → codes (batch, numQuantizers, frames).
    func encode(_ latents: Tensor, numQuantizers: Int) throws -> Tensor {
        guard numQuantizers <= maxNumQuantizers, numQuantizers >= numSemanticQuantizers else {
            throw MimiError.badInput("\(numQuantizers) codebooks requested; this Mimi has \(numSemanticQuantizers)"
                + "...\(maxNumQuantizers)")
        }
        var codes = try semanticResidualVectorQuantizer.encode(latents, numQuantizers: numSemanticQuantizers)
        if numQuantizers > numSemanticQuantizers {
            let acoustic = try acousticResidualVectorQuantizer.encode(
                latents, numQuantizers: numQuantizers - numSemanticQuantizers)
            codes = try Tensor.cat([codes, acoustic], dim: 0)
        }
        return try codes.transpose(0, 1)
    }

    /// codes (batch, k, frames) → latents (batch, hidden, frames).
    func decode(_ codes: Tensor) throws -> Tensor {
        let semantic = try semanticResidualVectorQuantizer.decode(codes.slice(1, 0, numSemanticQuantizers))
        guard codes.size(1) > numSemanticQuantizers else { return semantic }
        return try semantic + acousticResidualVectorQuantizer.decode(codes.slice(1, numSemanticQuantizers))
    }
}
