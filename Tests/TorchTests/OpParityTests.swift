import Foundation
import Testing
@testable import Torch

/// Every op of the Swift Tensor API against torch on the cases of ops.json: forward values (f32
/// and a bf16 subset) and, for differentiable ops, the input gradients of sum(output * w).
@Suite struct OpParityTests {
    typealias Op = (_ x: [Tensor], _ a: CaseArgs) throws -> [Tensor]

    /// The Swift call for each `op` name the Python script uses.
    static let ops: [String: Op] = [
        // creation
        "zeros": { _, a in [try .zeros(a.ints("shape"))] },
        "ones": { _, a in [try .ones(a.ints("shape"))] },
        "full": { _, a in [try .full(a.ints("shape"), a.double("value"))] },
        "arange": { _, a in
            [try .arange(a.double("start"), a.double("end"), step: a.double("step"), dtype: a.dtype("dtype"))]
        },
        "from_array": { _, a in
            switch a.dtype("dtype") {
            case .f32: return [try Tensor(a.doubles("values").map(Float.init), shape: a.ints("shape"))]
            default: return [try Tensor(a.ints("values").map(Int64.init), shape: a.ints("shape"))]
            }
        },
        // shape and indexing
        "reshape": { x, a in [try x[0].reshape(a.ints("shape"))] },
        "permute": { x, a in [try x[0].permute(a.ints("dims"))] },
        "transpose": { x, a in [try x[0].transpose(a.int("d0"), a.int("d1"))] },
        "slice": { x, a in [try x[0].slice(a.int("dim"), a.int("start"), a.int("end"), step: a.int("step"))] },
        "select": { x, a in [try x[0].select(a.int("dim"), a.int("index"))] },
        "index": { x, _ in [try x[0].index(x[1])] },
        "index_select": { x, a in [try x[0].indexSelect(a.int("dim"), x[1])] },
        "gather": { x, a in [try x[0].gather(a.int("dim"), x[1])] },
        "scatter": { x, a in [try x[0].scatter(a.int("dim"), x[1], x[2])] },
        "scatter_add": { x, a in [try x[0].scatterAdd(a.int("dim"), x[1], x[2])] },
        "cat": { x, a in [try .cat(x, dim: a.int("dim"))] },
        "stack": { x, a in [try .stack(x, dim: a.int("dim"))] },
        "pad": { x, a in
            let mode: Tensor.PadMode = ["constant": .constant, "reflect": .reflect, "replicate": .replicate][a.string("mode")]!
            return [try x[0].pad(a.ints("pads"), mode: mode, value: a.double("value"))]
        },
        "flip": { x, a in [try x[0].flip(a.ints("dims"))] },
        "tril": { x, a in [try x[0].tril(a.int("diagonal"))] },
        "triu": { x, a in [try x[0].triu(a.int("diagonal"))] },
        "expand": { x, a in [try x[0].expand(a.ints("shape"))] },
        "repeat": { x, a in [try x[0].repeated(a.ints("repeats"))] },
        "repeat_interleave": { x, a in [try x[0].repeatInterleave(a.int("repeats"), dim: a.int("dim"))] },
        "unsqueeze": { x, a in [try x[0].unsqueeze(a.int("dim"))] },
        "squeeze": { x, a in [try x[0].squeeze(a.int("dim"))] },
        "flatten": { x, a in [try x[0].flatten(a.int("start"), a.int("end"))] },
        "masked_fill": { x, a in [try x[0].maskedFill(x[1], a.double("value"))] },
        "where": { x, _ in [try .where(x[0], x[1], x[2])] },
        // elementwise
        "add": { x, _ in [try x[0] + x[1]] },
        "sub": { x, _ in [try x[0] - x[1]] },
        "mul": { x, _ in [try x[0] * x[1]] },
        "div": { x, _ in [try x[0] / x[1]] },
        "maximum": { x, _ in [try x[0].maximum(x[1])] },
        "minimum": { x, _ in [try x[0].minimum(x[1])] },
        "atan2": { x, _ in [try x[0].atan2(x[1])] },
        "pow": { x, _ in [try x[0].pow(x[1])] },
        "pow_scalar": { x, a in [try x[0].pow(a.double("exponent"))] },
        "add_scalar": { x, a in [try x[0] + a.double("value")] },
        "mul_scalar": { x, a in [try x[0] * a.double("value")] },
        "rsub_scalar": { x, a in [try a.double("value") - x[0]] },
        "rdiv_scalar": { x, a in [try a.double("value") / x[0]] },
        "remainder": { x, a in [try x[0].remainder(a.double("value"))] },
        "neg": { x, _ in [try -x[0]] },
        "exp": { x, _ in [try x[0].exp()] },
        "log": { x, _ in [try x[0].log()] },
        "sqrt": { x, _ in [try x[0].sqrt()] },
        "rsqrt": { x, _ in [try x[0].rsqrt()] },
        "abs": { x, _ in [try x[0].abs()] },
        "sin": { x, _ in [try x[0].sin()] },
        "cos": { x, _ in [try x[0].cos()] },
        "tanh": { x, _ in [try x[0].tanh()] },
        "sigmoid": { x, _ in [try x[0].sigmoid()] },
        "relu": { x, _ in [try x[0].relu()] },
        "silu": { x, _ in [try x[0].silu()] },
        "gelu": { x, _ in [try x[0].gelu()] },
        "gelu_tanh": { x, _ in [try x[0].gelu(approximate: true)] },
        "square": { x, _ in [try x[0].square()] },
        "reciprocal": { x, _ in [try x[0].reciprocal()] },
        "erf": { x, _ in [try x[0].erf()] },
        "log1p": { x, _ in [try x[0].log1p()] },
        "expm1": { x, _ in [try x[0].expm1()] },
        "floor": { x, _ in [try x[0].floor()] },
        "ceil": { x, _ in [try x[0].ceil()] },
        "round": { x, _ in [try x[0].round()] },
        "sign": { x, _ in [try x[0].sign()] },
        "elu": { x, a in [try x[0].elu(alpha: a.double("alpha"))] },
        "clamp": { x, a in [try x[0].clamp(min: a.optionalDouble("min"), max: a.optionalDouble("max"))] },
        "lerp": { x, a in [try x[0].lerp(x[1], a.double("weight"))] },
        "eq": { x, _ in [try x[0].eq(x[1])] },
        "lt": { x, _ in [try x[0].lt(x[1])] },
        "ge": { x, _ in [try x[0].ge(x[1])] },
        // reductions
        "sum": { x, a in [try x[0].sum(a.ints("dims"), keepDim: a.bool("keepdim"))] },
        "mean": { x, a in [try x[0].mean(a.ints("dims"), keepDim: a.bool("keepdim"))] },
        "amax": { x, a in [try x[0].max(a.ints("dims"), keepDim: a.bool("keepdim"))] },
        "amin": { x, a in [try x[0].min(a.ints("dims"), keepDim: a.bool("keepdim"))] },
        "prod": { x, a in [try x[0].prod(a.ints("dims"), keepDim: a.bool("keepdim"))] },
        "logsumexp": { x, a in [try x[0].logsumexp(a.ints("dims"), keepDim: a.bool("keepdim"))] },
        "var": { x, a in [try x[0].variance(a.ints("dims"), keepDim: a.bool("keepdim"))] },
        "std": { x, a in [try x[0].std(a.ints("dims"), keepDim: a.bool("keepdim"))] },
        "norm": { x, a in [try x[0].norm(a.double("p"))] },
        "cumsum": { x, a in [try x[0].cumsum(a.int("dim"))] },
        "argmax": { x, a in [try x[0].argmax(a.int("dim"), keepDim: a.bool("keepdim"))] },
        "argmin": { x, a in [try x[0].argmin(a.int("dim"), keepDim: a.bool("keepdim"))] },
        "topk": { x, a in
            let r = try x[0].topk(a.int("k"), dim: a.int("dim"), largest: a.bool("largest"))
            return [r.values, r.indices]
        },
        "sort": { x, a in
            let r = try x[0].sort(dim: a.int("dim"), descending: a.bool("descending"))
            return [r.values, r.indices]
        },
        "all": { x, a in [try x[0].all(a.ints("dims"))] },
        "any": { x, a in [try x[0].any(a.ints("dims"))] },
        // linear algebra and nn
        "matmul": { x, _ in [try x[0].matmul(x[1])] },
        "linear": { x, _ in [try x[0].linear(x[1], bias: x.count > 2 ? x[2] : nil)] },
        "softmax": { x, a in [try x[0].softmax(a.int("dim"))] },
        "log_softmax": { x, a in [try x[0].logSoftmax(a.int("dim"))] },
        "cross_entropy": { x, a in
            let reduction: Tensor.Reduction = ["mean": .mean, "sum": .sum, "none": .none][a.string("reduction")]!
            return [try x[0].crossEntropy(x[1], ignoreIndex: a.int("ignore_index"), reduction: reduction)]
        },
        "embedding": { x, _ in [try x[0].embedding(x[1])] },
        "conv1d": { x, a in
            [try x[0].conv1d(x[1], bias: x.count > 2 ? x[2] : nil, stride: a.int("stride"), padding: a.int("padding"),
                             dilation: a.int("dilation"), groups: a.int("groups"))]
        },
        "conv_transpose1d": { x, a in
            [try x[0].convTranspose1d(x[1], bias: x.count > 2 ? x[2] : nil, stride: a.int("stride"),
                                      padding: a.int("padding"), outputPadding: a.int("output_padding"),
                                      groups: a.int("groups"), dilation: a.int("dilation"))]
        },
        "sdpa": { x, a in
            [try .scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: x.count > 3 ? x[3] : nil,
                                            isCausal: a.bool("causal"), scale: a.optionalDouble("scale"),
                                            enableGQA: a.bool("gqa"))]
        },
        "rms_norm": { x, a in [try x[0].rmsNorm(weight: x.count > 1 ? x[1] : nil, eps: a.double("eps"))] },
        "layer_norm": { x, a in
            [try x[0].layerNorm(weight: x.count > 1 ? x[1] : nil, bias: x.count > 2 ? x[2] : nil, eps: a.double("eps"))]
        },
        // signal
        "stft": { x, a in
            let mode: Tensor.PadMode = ["constant": .constant, "reflect": .reflect, "replicate": .replicate][a.string("pad_mode")]!
            return [try x[0].stft(nFFT: a.int("n_fft"), hop: a.int("hop"), window: x.count > 1 ? x[1] : nil,
                                  center: a.bool("center"), padMode: mode)]
        },
    ]

    /// Ops held to a bound of their own instead of their dtype's.
    static let tolerances: [String: Tolerance] = ["stft": .fft]

    struct Case {
        let name: String, op: String, args: CaseArgs, inputs: Int, outputs: Int, grads: [Int]
    }

    static func cases() throws -> [Case] {
        let root = try TorchFixture.json("ops") as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map {
            Case(name: $0["name"] as! String, op: $0["op"] as! String, args: CaseArgs(values: $0["args"] as! [String: Any]),
                 inputs: $0["inputs"] as! Int, outputs: $0["outputs"] as! Int, grads: $0["grads"] as! [Int])
        }
    }

    @Test func everyFixtureOpHasASwiftCall() throws {
        let fixtureOps = Set(try Self.cases().map(\.op))
        #expect(fixtureOps == Set(Self.ops.keys), "ops only on one side: \(fixtureOps.symmetricDifference(Self.ops.keys))")
        #expect(try Self.cases().count > 140)
    }

    @Test(arguments: ops.keys.sorted())
    func matchesTorch(op: String) throws {
        let file = try TorchFixture.tensors("ops")
        let cases = try Self.cases().filter { $0.op == op }
        #expect(!cases.isEmpty)
        for c in cases {
            // Own copies: fixture tensors borrow a read-only mapping and cannot become autograd leaves.
            let inputs = try (0..<c.inputs).map { try file.tensor("\(c.name)/in/\($0)").clone() }
            for i in c.grads { try inputs[i].requiresGrad(true) }
            let outputs = try Self.ops[op]!(inputs, c.args)
            #expect(outputs.count == c.outputs, "\(c.name): output count")
            for (i, out) in outputs.enumerated() {
                try expectClose(out, file.tensor("\(c.name)/out/\(i)"), Self.tolerances[op], "\(c.name) output \(i)")
            }
            guard !c.grads.isEmpty else { continue }
            try (outputs[0] * file.tensor("\(c.name)/w")).sum().backward()
            for i in c.grads {
                let grad = try #require(try inputs[i].grad, "\(c.name): no gradient for input \(i)")
                try expectClose(grad, file.tensor("\(c.name)/grad/\(i)"), nil, "\(c.name) grad of input \(i)")
            }
        }
    }
}
