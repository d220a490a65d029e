import Foundation

/// Parses sizes as transformers' `max_shard_size` does: `KB`/`MB`/`GB` are powers of 1000,
/// `KiB`/`MiB`/`GiB` powers of 1024, a bare number is bytes.
public enum ByteSize {
    /// The number of bytes `text` names.
    ///
    /// - Throws: `ConvertError.invalidShardSize` for anything else, zero, or an overflow.
    public static func parse(_ text: String) throws(ConvertError) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, factor: Int)] = [
            ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30),
            ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("b", 1),
        ]
        let lower = trimmed.lowercased()
        let unit = units.first { lower.hasSuffix($0.suffix) } ?? ("", 1)
        let digits = lower.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)
        guard let count = Int(digits), count > 0 else { throw .invalidShardSize(text) }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: unit.factor)
        guard !overflow else { throw .invalidShardSize(text) }
        return bytes
    }

    /// `369.1 MB` style, powers of 1000, for people.
    public static func describe(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
