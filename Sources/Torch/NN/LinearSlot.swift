/// A place in a model that holds a `LinearLayer`, named by its module path
/// (`backbone_model.layers.0.self_attn.q_proj`). Reading gives the layer now there; assigning puts
/// another in the model — how LoRA wraps a projection and a frozen copy replaces a dense one, without
/// the model's classes knowing about either.
public struct LinearSlot {
    public let path: String
    private let read: () -> any LinearLayer
    private let write: (any LinearLayer) -> Void

    /// The property `keyPath` of `owner` (`attention`, `\.qProj`), named `path`.
    public init<Owner: AnyObject>(_ path: String, _ owner: Owner,
                                  _ keyPath: ReferenceWritableKeyPath<Owner, any LinearLayer>) {
        self.init(path: path, read: { owner[keyPath: keyPath] }, write: { owner[keyPath: keyPath] = $0 })
    }

    private init(path: String, read: @escaping () -> any LinearLayer, write: @escaping (any LinearLayer) -> Void) {
        self.path = path
        self.read = read
        self.write = write
    }

    public var layer: any LinearLayer {
        get { read() }
        nonmutating set { write(newValue) }
    }

    /// The same place seen from an enclosing module: `prefix.path`.
    public func prefixed(_ prefix: String) -> LinearSlot {
        LinearSlot(path: prefix + "." + path, read: read, write: write)
    }
}
