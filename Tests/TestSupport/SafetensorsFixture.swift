import Foundation

/// Small safetensors files written byte by byte, for tests whose fixture is a handful of named
/// tensors of any dtype (the writers refuse some, such as fp8, on purpose).
public enum SafetensorsFixture {
    /// Writes `tensors` (name, safetensors dtype, shape, byte count), their bytes all zero.
    public static func write(_ tensors: [(name: String, dtype: String, shape: [Int], bytes: Int)], at url: URL)
        throws
    {
        var offset = 0
        var entries: [String] = []
        for tensor in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(
                "\"\(tensor.name)\":{\"dtype\":\"\(tensor.dtype)\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(offset + tensor.bytes)]}")
            offset += tensor.bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var file = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) }
        file.append(contentsOf: header)
        file.append(Data(count: offset))
        try file.write(to: url)
    }

    /// A ComfyUI "scaled fp8" file: an fp8 weight, its fp32 scale (last name component `scale`),
    /// and the `scaled_fp8` marker.
    public static func writeScaledFP8(scale: String = "scale_weight", at url: URL) throws {
        try write(
            [
                ("encoder.block.0.layer.0.SelfAttention.q.weight", "F8_E4M3", [4, 4], 16),
                ("encoder.block.0.layer.0.SelfAttention.q.\(scale)", "F32", [], 4),
                ("scaled_fp8", "F8_E4M3", [0], 0),
            ], at: url)
    }
}
