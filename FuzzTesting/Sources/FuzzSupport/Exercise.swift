import Formats

/// What every harness does with what a reader returns: reads every byte of every tensor (through
/// `pread`, checking stored checksums, and through the mapping) and renders every error, so a
/// message that does arithmetic on file numbers is fuzzed too.
public enum Exercise {
    /// Opens a checkpoint with `open` and consumes it, or renders the error `open` throws.
    public static func run(_ open: () throws -> Checkpoint) {
        do {
            consume(try open())
        } catch {
            render(error)
        }
    }

    /// Reads every tensor's bytes twice (verified chunks, then the mapping) and renders everything
    /// the checkpoint reports.
    public static func consume(_ checkpoint: Checkpoint) {
        blackHole(checkpoint.format.displayName)
        blackHole(checkpoint.metadata.description)
        blackHole(checkpoint.skipped.description)
        blackHole(checkpoint.tensorBytes)
        consume(checkpoint.tensors)
    }

    /// Reads every byte of each tensor, rendering any error and going on with the next tensor.
    public static func consume(_ tensors: [TensorRef]) {
        for tensor in tensors {
            blackHole("\(tensor.name) \(tensor.dtype) \(tensor.shape) \(tensor.byteRange)")
            do {
                var crc: UInt32 = 0
                try tensor.forEachVerifiedChunk(chunkSize: 1 << 16) { crc = CRC32.checksum($0, continuing: crc) }
                blackHole(crc)
            } catch {
                render(error)
            }
            blackHole(tensor.withUnsafeBytes { CRC32.checksum($0) })
        }
    }

    /// Renders `error` the way the CLI prints it.
    public static func render(_ error: any Error) {
        blackHole(String(describing: error))
    }
}

/// Keeps `value` alive and computed: the optimiser cannot see through a call into another module.
@inline(never)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
