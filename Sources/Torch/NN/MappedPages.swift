import CTorch

extension Tensor {
    /// Gives back to the system the resident pages of a tensor that borrows a memory-mapped safetensors
    /// file, once its contents have been copied elsewhere (e.g. converted to bf16): touched pages of a file
    /// mapping count toward this process's resident memory until it is unmapped. Reading the tensor
    /// again maps them back in from the file. Throws for tensors that own their memory.
    public func releaseMappedPages() throws { try check(ct_release_mapped_pages(handle)) }
}
