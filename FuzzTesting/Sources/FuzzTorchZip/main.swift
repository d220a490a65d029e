import CFuzzDriver
import Formats
import Foundation
import FuzzSupport

/// The input is a `torch.save` zip; every stored member's CRC-32 is recomputed first so that
/// mutated pickles reach the pickle machine. Odd-sized inputs defer member checks to the read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchZip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    ZipRepair.recomputeChecksums(&bytes)
    let url = Scratch.write(bytes, to: "pytorch_model.bin")
    let checksums: ChecksumPolicy = size % 2 == 0 ? .verifyOnOpen : .verifyWhenRead
    Exercise.run { try TorchZipReader.open(url, checksums: checksums) }
    return 0
}

exit(CFuzzDriver_run(CommandLine.argc, CommandLine.unsafeArgv))
