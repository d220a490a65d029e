import CFuzzDriver
import Formats
import Foundation
import FuzzSupport

/// The input is JSON text: parsed, every value read every way and re-serialised; an object is
/// then also opened as `model.safetensors.index.json` beside two one-tensor shards.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let root: JSONValue
    do {
        root = try JSONParser.parse(bytes)
    } catch {
        Exercise.render(error)
        return 0
    }
    visit(root)
    blackHole(root.serialized())
    blackHole(root.prettyPrinted())
    guard root.members != nil else { return 0 }
    _ = shards
    let url = Scratch.write(bytes, to: ShardedSafetensors.indexFileName)
    Exercise.run { try ShardedSafetensors.open(url, checksums: .verifyOnOpen) }
    return 0
}

private func visit(_ value: JSONValue) {
    blackHole(value.intValue)
    blackHole(value.exactIntegerValue)
    blackHole(value.doubleValue)
    blackHole(value.boolValue)
    blackHole(value.stringValue)
    for member in value.members ?? [] {
        blackHole(value[member.key] != nil)
        visit(member.value)
    }
    for element in value.arrayValue ?? [] { visit(element) }
}

/// Two shards an index can name, `model-00001-of-00002.safetensors` (tensor `a`, f32 [2]) and
/// `model-00002-of-00002.safetensors` (tensor `b`, u8 [3]), written once.
private let shards: Void = {
    for (number, tensor) in [
        (1, #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#),
        (2, #""b":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}"#),
    ] {
        var header = Array("{\(tensor)}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        let data = number == 1 ? 8 : 3
        let length = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
        let file = length + header + [UInt8](repeating: UInt8(number), count: data)
        Scratch.write(file, to: ShardedSafetensors.shardFileName(number, of: 2))
    }
}()

exit(CFuzzDriver_run(CommandLine.argc, CommandLine.unsafeArgv))
