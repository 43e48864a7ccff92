import Torch

/// One weight of the model by its checkpoint name, readable and replaceable (full fine-tuning swaps
/// frozen memory-mapped weights for trainable copies).
public struct NamedParameter {
    public let name: String
    public let get: () -> Tensor
    public let set: (Tensor) -> Void
}

extension DecoderLayer {
    var namedLinears: [(String, Linear)] {
        [("self_attn.q_proj", selfAttn.qProj), ("self_attn.k_proj", selfAttn.kProj), ("self_attn.v_proj", selfAttn.vProj),
         ("self_attn.o_proj", selfAttn.oProj), ("mlp.gate_proj", mlp.gateProj), ("mlp.up_proj", mlp.upProj),
         ("mlp.down_proj", mlp.downProj)]
    }
}

extension DecoderStack {
    /// Linear layers under `prefix` (`…layers.N.self_attn.q_proj`, …).
    func namedLinears(_ prefix: String) -> [(String, Linear)] {
        layers.enumerated().flatMap { i, layer in layer.namedLinears.map { ("\(prefix).layers.\(i).\($0.0)", $0.1) } }
    }

    func parameters(_ prefix: String) -> [NamedParameter] {
        var out = [NamedParameter]()
        for (i, layer) in layers.enumerated() {
            let p = "\(prefix).layers.\(i)"
            out += layer.namedLinears.flatMap { linearParameters("\(p).\($0.0)", $0.1) }
            out.append(normParameter("\(p).input_layernorm", layer.inputLayernorm))
            out.append(normParameter("\(p).post_attention_layernorm", layer.postAttentionLayernorm))
        }
        out.append(normParameter("\(prefix).norm", norm))
        return out
    }
}

func linearParameters(_ path: String, _ l: Linear) -> [NamedParameter] {
    var out = [NamedParameter(name: path + ".weight", get: { l.weight }, set: { l.weight = $0 })]
    if l.bias != nil { out.append(NamedParameter(name: path + ".bias", get: { l.bias! }, set: { l.bias = $0 })) }
    return out
}

func normParameter(_ path: String, _ n: RMSNorm) -> NamedParameter {
    NamedParameter(name: path + ".weight", get: { n.weight }, set: { n.weight = $0 })
}

func embeddingParameter(_ path: String, _ e: Embedding) -> NamedParameter {
    NamedParameter(name: path + ".weight", get: { e.weight }, set: { e.weight = $0 })
}

extension CSMForConditionalGeneration {
    /// Every Linear of the backbone and depth decoder by module path (what LoRA can target), plus the heads.
    public var namedLinears: [(String, Linear)] {
        [("lm_head", lmHead)] + backboneModel.stack.namedLinears("backbone_model")
            + [("depth_decoder.model.inputs_embeds_projector", depthDecoder.model.inputsEmbedsProjector)]
            + depthDecoder.model.stack.namedLinears("depth_decoder.model")
    }

    /// The model's weights (codec excluded) in transformers' `named_parameters()` order and naming; a tied
    /// table appears once, under its first name (the backbone's), as in PyTorch.
    public var namedParameters: [NamedParameter] {
        var out = linearParameters("lm_head", lmHead)
        out.append(embeddingParameter("embed_text_tokens", embedTextTokens))
        out.append(embeddingParameter(Self.backboneAudioKey, backboneModel.embedTokens.embedAudioTokens))
        out += backboneModel.stack.parameters("backbone_model")
        let head = depthDecoder.codebooksHead
        out.append(NamedParameter(name: "depth_decoder.codebooks_head.weight", get: { head.weight },
                                  set: { head.weight = $0 }))
        if depthDecoder.model.embedTokens !== backboneModel.embedTokens.embedAudioTokens {
            out.append(embeddingParameter(Self.depthEmbedKey, depthDecoder.model.embedTokens))
        }
        out += depthDecoder.model.stack.parameters("depth_decoder.model")
        out += linearParameters("depth_decoder.model.inputs_embeds_projector", depthDecoder.model.inputsEmbedsProjector)
        return out
    }

    /// The weights as a checkpoint stores them: a tied table under the depth decoder's key only (as
    /// transformers' save_pretrained), no codec.
    public func stateDict() -> [String: Tensor] {
        var out = [String: Tensor]()
        let tied = depthDecoder.model.embedTokens === backboneModel.embedTokens.embedAudioTokens
        for p in namedParameters {
            out[tied && p.name == Self.backboneAudioKey + ".weight" ? Self.depthEmbedKey + ".weight" : p.name] = p.get()
        }
        return out
    }

    /// Full fine-tuning: replaces every weight by a trainable copy in `dtype` (the memory-mapped originals
    /// are read-only) and returns them by name.
    @discardableResult
    public func makeTrainable(dtype: DType = .f32) throws -> [(name: String, tensor: Tensor)] {
        try namedParameters.map { p in
            let t = try p.get().detach().to(dtype).clone().requiresGrad(true)
            p.set(t)
            return (p.name, t)
        }
    }

    /// Number of elements of all weights (codec excluded).
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.get().count } }
}
