internal import CISAL

/// CRC-32C (Castagnoli), as LevelDB tables and TensorFlow bundles use it, through ISA-L.
public enum CRC32C {
    /// The CRC-32C of `bytes`, continuing from `crc` (0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard var base = bytes.baseAddress else { return crc }
        // ISA-L's iSCSI CRC takes the raw register: invert on the way in and out for the standard CRC.
        var register = ~crc
        var left = bytes.count
        while left > 0 {
            let count = min(left, 1 << 30)
            register = crc32_iscsi(
                UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self)), Int32(count), register)
            base += count
            left -= count
        }
        return ~register
    }

    /// The masked form stored on disk, so a CRC of data that contains CRCs stays well distributed.
    public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// The CRC a masked value stands for.
    public static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- 0xA282_EAD8
        return (rotated >> 17) | (rotated << 15)
    }
}
