import Torch

/// One weight of the model by its checkpoint name, readable and replaceable (full fine-tuning swaps
/// frozen memory-mapped weights for trainable copies).
public struct NamedParameter {
    public let name: String
    public let get: () -> Tensor
    public let set: (Tensor) -> Void
}

extension DecoderLayer {
    /// The seven projections, by their paths inside the layer.
    var linearSlots: [LinearSlot] {
        [LinearSlot("self_attn.q_proj", selfAttn, \.qProj), LinearSlot("self_attn.k_proj", selfAttn, \.kProj),
         LinearSlot("self_attn.v_proj", selfAttn, \.vProj), LinearSlot("self_attn.o_proj", selfAttn, \.oProj),
         LinearSlot("mlp.gate_proj", mlp, \.gateProj), LinearSlot("mlp.up_proj", mlp, \.upProj),
         LinearSlot("mlp.down_proj", mlp, \.downProj)]
    }
}

extension DecoderStack {
    /// The projections of every layer under `prefix` (`…layers.N.self_attn.q_proj`, …).
    func linearSlots(_ prefix: String) -> [LinearSlot] {
        layers.enumerated().flatMap { i, layer in layer.linearSlots.map { $0.prefixed("\(prefix).layers.\(i)") } }
    }

    func parameters(_ prefix: String) -> [NamedParameter] {
        var out = [NamedParameter]()
        for (i, layer) in layers.enumerated() {
            let p = "\(prefix).layers.\(i)"
            out += layer.linearSlots.flatMap { linearParameters($0.prefixed(p)) }
            out.append(normParameter("\(p).input_layernorm", layer.inputLayernorm))
            out.append(normParameter("\(p).post_attention_layernorm", layer.postAttentionLayernorm))
        }
        out.append(normParameter("\(prefix).norm", norm))
        return out
    }
}

/// A projection's weight and bias, read from the layer under any LoRA wrapper (the update is no weight
/// of the model). Dense and bf16-frozen layers hold W as a tensor; an NF4 layer holds codes, which no
/// checkpoint stores, so only its bias is listed.
func linearParameters(_ slot: LinearSlot) -> [NamedParameter] {
    let path = slot.path, base = slot.base
    var out = [NamedParameter]()
    if let l = base as? Linear {
        out.append(NamedParameter(name: path + ".weight", get: { l.weight }, set: { l.weight = $0 }))
    } else if let l = base as? FrozenLinear {
        out.append(NamedParameter(name: path + ".weight", get: { l.weight }, set: { l.weight = $0 }))
    }
    if base.bias != nil { out.append(NamedParameter(name: path + ".bias", get: { base.bias! }, set: { base.bias = $0 })) }
    return out
}

func normParameter(_ path: String, _ n: RMSNorm) -> NamedParameter {
    NamedParameter(name: path + ".weight", get: { n.weight }, set: { n.weight = $0 })
}

func embeddingParameter(_ path: String, _ e: Embedding) -> NamedParameter {
    NamedParameter(name: path + ".weight", get: { e.weight }, set: { e.weight = $0 })
}

extension CSMForConditionalGeneration {
    /// Every projection of the backbone and depth decoder by module path (what LoRA can target), plus
    /// `lm_head` and the depth decoder's input projector.
    public var linearSlots: [LinearSlot] {
        [LinearSlot("lm_head", self, \.lmHead)] + backboneModel.stack.linearSlots("backbone_model")
            + [LinearSlot("depth_decoder.model.inputs_embeds_projector", depthDecoder.model, \.inputsEmbedsProjector)]
            + depthDecoder.model.stack.linearSlots("depth_decoder.model")
    }

    /// The model's weights (codec excluded) in transformers' `named_parameters()` order and naming; a tied
    /// table appears once, under its first name (the backbone's), as in PyTorch.
    public var namedParameters: [NamedParameter] {
        var out = linearParameters(LinearSlot("lm_head", self, \.lmHead))
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
        out += linearParameters(LinearSlot("depth_decoder.model.inputs_embeds_projector", depthDecoder.model,
                                           \.inputsEmbedsProjector))
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
