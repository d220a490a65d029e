import CFuzzDriver
import Formats
import Foundation
import FuzzSupport

/// The input is a TensorFlow checkpoint: a 2-byte little-endian index length, the `.index`, then
/// data shards, each a 4-byte little-endian length and its bytes (the last one takes what is
/// left; at most 8). Written as `model.ckpt.index` and `model.ckpt.data-0000K-of-0000N`, after the
/// index's block CRC-32Cs are recomputed. Odd-sized inputs check tensor CRCs as they are read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTensorFlow(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard input.count >= 2 else { return 0 }
    let indexLength = min(Int(input[0]) | Int(input[1]) << 8, input.count - 2)
    var index = Array(input[2..<(2 + indexLength)])
    TableRepair.recomputeChecksums(&index)

    var shards: [ArraySlice<UInt8>] = []
    var position = 2 + indexLength
    while position < input.count, shards.count < 8 {
        let header = min(4, input.count - position)
        let declared = input[position..<(position + header)].reversed().reduce(0) { $0 << 8 | Int($1) }
        let start = position + header
        let length = shards.count == 7 ? input.count - start : min(declared, input.count - start)
        shards.append(input[start..<(start + length)])
        position = start + length
    }

    for name in Shards.written { Scratch.remove(name) }
    Shards.written = []
    let url = Scratch.write(index, to: "model.ckpt.index")
    for (number, shard) in shards.enumerated() {
        let name = TensorBundle.shardName(prefix: "model.ckpt", number, of: shards.count)
        Scratch.write(Array(shard), to: name)
        Shards.written.append(name)
    }
    let checksums: ChecksumPolicy = size % 2 == 0 ? .verifyOnOpen : .verifyWhenRead
    Exercise.run { try TensorBundle.open(index: url, checksums: checksums) }
    return 0
}

/// The shard files the previous input wrote, removed before the next so none is left to be found.
private enum Shards {
    nonisolated(unsafe) static var written: [String] = []
}

exit(CFuzzDriver_run(CommandLine.argc, CommandLine.unsafeArgv))
