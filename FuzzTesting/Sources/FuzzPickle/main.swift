import CFuzzDriver
@_spi(Fuzzing) import Formats
import Foundation
import FuzzSupport

/// The input is a `data.pkl`: interpreted, read as a state dict and resolved against zeroed
/// storages of the sizes it declares (up to 1 MiB each), with no zip or CRC in the way.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        let result = try TorchZipReader.tensors(
            fromPickle: UnsafeRawBufferPointer(start: data, count: size), maxStorageBytes: 1 << 20)
        blackHole(result.skipped.description)
        Exercise.consume(result.tensors)
    } catch {
        Exercise.render(error)
    }
    return 0
}

exit(CFuzzDriver_run(CommandLine.argc, CommandLine.unsafeArgv))
