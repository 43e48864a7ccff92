import Foundation
import Torch

/// HF `MimiResnetBlock`: x + conv1(ELU(conv0(ELU(x)))) with a `dim / compress` bottleneck; the convs sit at
/// `block.1` and `block.3` (`block.0` and `block.2` are the weightless ELUs).
final class MimiResnetBlock {
    let block: [MimiConv1d]
    let shortcut: MimiConv1d?

    init(_ vb: VarBuilder, config: MimiConfig, dim: Int, dilations: [Int]) throws {
        let kernelSizes = [config.residualKernelSize, 1]
        let hidden = dim / config.compress
        block = try zip(kernelSizes, dilations).enumerated().map { i, pair in
            try MimiConv1d(vb.pp("block").pp(2 * i + 1), config: config, inChannels: i == 0 ? dim : hidden,
                           outChannels: i == kernelSizes.count - 1 ? dim : hidden, kernelSize: pair.0,
                           dilation: pair.1)
        }
        shortcut = config.useConvShortcut
            ? try MimiConv1d(vb.pp("shortcut"), config: config, inChannels: dim, outChannels: dim, kernelSize: 1)
            : nil
    }

    /// Stride-1 convs keep the valid lengths, so `lengths` pass through unchanged.
    func callAsFunction(_ x: Tensor, lengths: ValidLengths? = nil) throws -> Tensor {
        var h = x
        for conv in block { h = try conv(h.elu(), lengths: lengths) }
        let residual = try shortcut.map { try $0(x, lengths: lengths) } ?? x
        return try residual + h
    }
}

/// One entry of a SEANet `layers` list; ELUs hold no weights but keep HF's indices.
enum SEANetLayer {
    case conv(MimiConv1d)
    case transposedConv(MimiConvTranspose1d)
    case resnet(MimiResnetBlock)
    case elu
}

/// HF `MimiEncoder` (checkpoint keys `encoder.layers.N`): conv, then per ratio (reversed) residual blocks,
/// ELU and a strided conv doubling the channels, then ELU and the last conv to `hidden_size`.
final class MimiEncoder {
    let layers: [SEANetLayer]

    init(_ vb: VarBuilder, config: MimiConfig) throws {
        let vb = vb.pp("layers")
        var layers: [SEANetLayer] = []
        func next() -> VarBuilder { vb.pp(layers.count) }
        layers.append(.conv(try MimiConv1d(next(), config: config, inChannels: config.audioChannels,
                                           outChannels: config.numFilters, kernelSize: config.kernelSize)))
        var scaling = 1
        for ratio in config.upsamplingRatios.reversed() {
            let channels = scaling * config.numFilters
            for j in 0..<config.numResidualLayers {
                let dilation = Int(pow(Double(config.dilationGrowthRate), Double(j)))
                layers.append(.resnet(try MimiResnetBlock(next(), config: config, dim: channels, dilations: [dilation, 1])))
            }
            layers.append(.elu)
            layers.append(.conv(try MimiConv1d(next(), config: config, inChannels: channels, outChannels: channels * 2,
                                               kernelSize: ratio * 2, stride: ratio)))
            scaling *= 2
        }
        layers.append(.elu)
        layers.append(.conv(try MimiConv1d(next(), config: config, inChannels: scaling * config.numFilters,
                                           outChannels: config.hiddenSize, kernelSize: config.lastKernelSize)))
        self.layers = layers
    }

    /// (batch, channels, samples) → (batch, hidden, steps); `lengths` are updated to the output's.
    func callAsFunction(_ x: Tensor, lengths: inout ValidLengths?) throws -> Tensor {
        var h = x
        for layer in layers {
            switch layer {
            case .conv(let conv):
                h = try conv(h, lengths: lengths)
                lengths = lengths?.map(conv.outputLength)
            case .resnet(let block): h = try block(h, lengths: lengths)
            case .elu: h = try h.elu()
            case .transposedConv: throw MimiError.invalidConfig("transposed conv in the encoder")
            }
        }
        return h
    }

    /// Frames an input of `samples` yields after these layers.
    func outputLength(_ samples: Int) -> Int {
        layers.reduce(samples) { n, layer in
            if case .conv(let conv) = layer { return conv.outputLength(n) }
            return n
        }
    }
}

/// HF `MimiDecoder` (checkpoint keys `decoder.layers.N`): the mirror image with transposed convs.
final class MimiDecoder {
    let layers: [SEANetLayer]

    init(_ vb: VarBuilder, config: MimiConfig) throws {
        let vb = vb.pp("layers")
        var layers: [SEANetLayer] = []
        func next() -> VarBuilder { vb.pp(layers.count) }
        var scaling = 1 << config.upsamplingRatios.count
        layers.append(.conv(try MimiConv1d(next(), config: config, inChannels: config.hiddenSize,
                                           outChannels: scaling * config.numFilters, kernelSize: config.kernelSize)))
        for ratio in config.upsamplingRatios {
            let channels = scaling * config.numFilters
            layers.append(.elu)
            layers.append(.transposedConv(try MimiConvTranspose1d(next(), config: config, inChannels: channels,
                                                                  outChannels: channels / 2, kernelSize: ratio * 2,
                                                                  stride: ratio)))
            for j in 0..<config.numResidualLayers {
                let dilation = Int(pow(Double(config.dilationGrowthRate), Double(j)))
                layers.append(.resnet(try MimiResnetBlock(next(), config: config, dim: channels / 2,
                                                          dilations: [dilation, 1])))
            }
            scaling /= 2
        }
        layers.append(.elu)
        layers.append(.conv(try MimiConv1d(next(), config: config, inChannels: config.numFilters,
                                           outChannels: config.audioChannels, kernelSize: config.lastKernelSize)))
        self.layers = layers
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = x
        for layer in layers {
            switch layer {
            case .conv(let conv): h = try conv(h)
            case .transposedConv(let conv): h = try conv(h)
            case .resnet(let block): h = try block(h)
            case .elu: h = try h.elu()
            }
        }
        return h
    }
}
