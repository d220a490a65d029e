internal import CZstd
import Foundation

/// Zstandard-compressed checkpoint files (`model.safetensors.zst`, ...), through libzstd's
/// streaming API: memory stays at a few buffers whatever the file's size.
public enum Zstd {
    /// The file name suffix of compressed files.
    public static let suffix = ".zst"
    /// The frame magic number, little-endian.
    public static let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    /// Whether a file starting with `prefix` is a zstd frame.
    public static func isCompressed(prefix: [UInt8]) -> Bool { prefix.starts(with: magic) }

    /// Throws `CheckpointError.compression` naming `source` when libzstd's `result` is an error.
    private static func check(_ result: Int, _ what: String, _ source: URL) throws(CheckpointError) {
        guard ZSTD_isError(result) != 0 else { return }
        throw .compression(path: source.path, reason: "cannot \(what): \(String(cString: ZSTD_getErrorName(result)))")
    }

    /// Compresses `source` into the new file `destination` (level 3, on every core).
    ///
    /// - Throws: `CheckpointError.io` on read or write errors, `CheckpointError.compression` if
    ///   libzstd fails.
    public static func compress(_ source: URL, to destination: URL, level: Int32 = 3) throws {
        guard let context = ZSTD_createCCtx() else {
            throw CheckpointError.compression(path: source.path, reason: "out of memory")
        }
        defer { ZSTD_freeCCtx(context) }
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "set the level", source)
        // A libzstd built without threads refuses workers: it then compresses on this thread.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(ProcessInfo.processInfo.activeProcessorCount))
        let input = try MappedFile(path: source.path)
        try check(ZSTD_CCtx_setPledgedSrcSize(context, UInt64(input.size)), "set the size", source)
        let sink = try FileSink(creating: destination.path)
        let outputSize = ZSTD_CStreamOutSize()
        try withUnsafeTemporaryAllocation(byteCount: outputSize, alignment: 64) { output in

            func drive(_ chunk: UnsafeRawBufferPointer, _ mode: ZSTD_EndDirective) throws {
                var inBuffer = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
                while true {
                    var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: outputSize, pos: 0)
                    let remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, mode)
                    if ZSTD_isError(remaining) != 0 {
                        throw CheckpointError.compression(
                            path: source.path, reason: String(cString: ZSTD_getErrorName(remaining)))
                    }
                    try sink.write(UnsafeRawBufferPointer(rebasing: output[0..<outBuffer.pos]))
                    let finished = mode == ZSTD_e_end ? remaining == 0 : inBuffer.pos == inBuffer.size
                    if finished { return }
                }
            }
            try input.forEachChunk(in: 0..<input.size, chunkSize: ZSTD_CStreamInSize() * 8) {
                try drive($0, ZSTD_e_continue)
            }
            try drive(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end)
            try sink.close()
        }
    }

    /// Decompresses `source` into the new file `destination`, streaming.
    ///
    /// - Throws: `CheckpointError.compression` naming the compressed byte offset for a corrupt or
    ///   truncated frame.
    public static func decompress(_ source: URL, to destination: URL) throws {
        guard let context = ZSTD_createDCtx() else {
            throw CheckpointError.compression(path: source.path, reason: "out of memory")
        }
        defer { ZSTD_freeDCtx(context) }
        let input = try MappedFile(path: source.path)
        let sink = try FileSink(creating: destination.path)
        let outputSize = ZSTD_DStreamOutSize()
        try withUnsafeTemporaryAllocation(byteCount: outputSize, alignment: 64) { output in
            var consumed = 0
            var lastResult = 1
            try input.forEachChunk(in: 0..<input.size, chunkSize: ZSTD_DStreamInSize() * 8) { chunk in
                var inBuffer = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
                while inBuffer.pos < inBuffer.size {
                    var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: outputSize, pos: 0)
                    let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                    if ZSTD_isError(result) != 0 {
                        throw CheckpointError.compression(
                            path: source.path,
                            reason:
                                "\(String(cString: ZSTD_getErrorName(result))) near compressed byte offset \(consumed + inBuffer.pos)"
                        )
                    }
                    try sink.write(UnsafeRawBufferPointer(rebasing: output[0..<outBuffer.pos]))
                    lastResult = result
                }
                consumed += chunk.count
            }
            // Flush what the decoder still holds once all input is in.
            while lastResult != 0 {
                var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
                var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: outputSize, pos: 0)
                let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                if ZSTD_isError(result) != 0 || (outBuffer.pos == 0 && result != 0) {
                    throw CheckpointError.compression(
                        path: source.path,
                        reason: "the compressed data ends early (truncated at byte offset \(input.size))"
                    )
                }
                try sink.write(UnsafeRawBufferPointer(rebasing: output[0..<outBuffer.pos]))
                lastResult = result
            }
            try sink.close()
        }
    }
}
