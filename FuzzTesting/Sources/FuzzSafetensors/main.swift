import CFuzzDriver
import Formats
import Foundation
import FuzzSupport

/// The input is a `.safetensors` file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = Scratch.write(UnsafeRawBufferPointer(start: data, count: size), to: "model.safetensors")
    Exercise.run { try SafetensorsReader.open(url) }
    return 0
}

exit(CFuzzDriver_run(CommandLine.argc, CommandLine.unsafeArgv))
