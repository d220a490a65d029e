import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where human output goes, and whether a person is watching.
enum Terminal {
    /// Whether standard error is a terminal (progress bars are drawn only then).
    static var stderrIsInteractive: Bool { isatty(STDERR_FILENO) == 1 }

    /// Writes `text` to standard error without a newline.
    static func writeError(_ text: String) {
        // write(2) on the descriptor: unbuffered, and free of the C `stderr` global Swift 6 flags.
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                buffer.baseAddress.map { write(STDERR_FILENO, $0 + offset, buffer.count - offset) } ?? 0
            }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// A one-line progress bar on standard error, redrawn at most a few times a second and only
/// when standard error is a terminal.
final class ProgressBar: @unchecked Sendable {
    // @unchecked: updates may come from a download's callback queue; `lock` orders them.
    private let lock = NSLock()
    private let label: String
    private let enabled: Bool
    private var lastDraw: UInt64 = 0
    private var drawn = false

    init(label: String, enabled: Bool = Terminal.stderrIsInteractive) {
        self.label = label
        self.enabled = enabled
    }

    func update(done: Int, total: Int) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Self.milliseconds()
        guard now - lastDraw >= 100 || done == total else { return }
        lastDraw = now
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        Terminal.writeError("\r\(label) [\(bar)] \(Int(fraction * 100))%")
        drawn = true
    }

    /// Clears the bar so the next line starts clean.
    func finish() {
        guard enabled, drawn else { return }
        Terminal.writeError("\r" + String(repeating: " ", count: label.count + 40) + "\r")
    }

    private static func milliseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}
