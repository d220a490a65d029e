extension Sequence where Element == any TensorByteSource {
    /// Refuses, before anything is written, a tensor whose dtype is block-quantized: safetensors,
    /// PyTorch and TensorFlow store element-wise dtypes only.
    ///
    /// - Parameter format: the writer's format, named in the error.
    /// - Throws: `CheckpointError.unsupportedDType` naming the first such tensor.
    func requireElementwiseDTypes(format: CheckpointFormat, path: String) throws(CheckpointError) {
        for tensor in self where tensor.outputSpec.dtype.isBlockQuantized {
            throw .unsupportedDType(
                path: path, tensor: tensor.outputSpec.name, dtype: tensor.outputSpec.dtype.rawValue,
                format: format.displayName)
        }
    }
}
