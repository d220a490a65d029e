import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A per-process scratch directory (in `/dev/shm` when there is one) where harnesses write their
/// input for readers that take a path; files are overwritten in place, and the directory is removed
/// at exit.
///
/// With `ZOO_FUZZ_SCRATCH=<dir>` the files go to `<dir>` and stay there: running a harness on one
/// crash input that way leaves exactly the files the reader saw (CRCs recomputed, TensorFlow input
/// split into index and shards), which is what gets committed as a fixture.
public enum Scratch {
    /// The directory, created on first use.
    public static let directory: String = {
        if let kept = ProcessInfo.processInfo.environment["ZOO_FUZZ_SCRATCH"] {
            try? FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
            return kept
        }
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/zoo-fuzz-\(getpid())"
        mkdir(path, 0o700)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.directory) }
        return path
    }()

    /// `name` inside the scratch directory.
    public static func url(_ name: String) -> URL {
        URL(fileURLWithPath: directory + "/" + name)
    }

    /// Writes `bytes` to `name` inside the scratch directory (replacing what was there) and returns its URL.
    @discardableResult
    public static func write(_ bytes: UnsafeRawBufferPointer, to name: String) -> URL {
        let url = url(name)
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(descriptor >= 0, "cannot create \(url.path): errno \(errno)")
        defer { close(descriptor) }
        guard let base = bytes.baseAddress else { return url }
        var written = 0
        while written < bytes.count {
            let count = Glibc.write(descriptor, base + written, bytes.count - written)
            precondition(count > 0, "cannot write \(url.path): errno \(errno)")
            written += count
        }
        return url
    }

    /// Writes `bytes` to `name` inside the scratch directory and returns its URL.
    @discardableResult
    public static func write(_ bytes: [UInt8], to name: String) -> URL {
        bytes.withUnsafeBytes { write($0, to: name) }
    }

    /// Removes `name` from the scratch directory, if it is there.
    public static func remove(_ name: String) {
        unlink(url(name).path)
    }
}
