import CFuzzDriver
import Formats
import Foundation
import FuzzSupport

/// The input is a legacy (pre-1.6) `torch.save` file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchLegacy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = Scratch.write(UnsafeRawBufferPointer(start: data, count: size), to: "pytorch_model.bin")
    Exercise.run { try TorchLegacyReader.open(url) }
    return 0
}

exit(CFuzzDriver_run(CommandLine.argc, CommandLine.unsafeArgv))
