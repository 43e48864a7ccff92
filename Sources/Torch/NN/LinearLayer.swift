/// Something that maps `x` (…, in) to `x Wᵀ + b` (…, out), however it holds W: dense (`Linear`),
/// frozen in a narrower dtype (`FrozenLinear`), as NF4 codes (`NF4Linear`), or as a base layer plus an
/// update (LoRA). Models hold their projections as this type so that one can be swapped for another
/// in place, and none of these variants has to live inside `Linear`.
public protocol LinearLayer: AnyObject {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// b (out), or nil. Settable: full fine-tuning swaps it for a trainable copy.
    var bias: Tensor? { get set }
    /// Where W lives; tensors that work with it (a LoRA pair) are made there.
    var device: Device { get }

    func callAsFunction(_ x: Tensor) throws -> Tensor
}
