import CFuzzDriver
import Formats
import Foundation
import FuzzSupport

/// The input is a `.gguf` file. Besides reading every tensor, each accepted file's typed metadata
/// is rendered and the file is written back (`GGUFWriter`) and read again, and every Q8_0 tensor
/// is dequantized, so the writer and the Q8_0 kernels see what the reader lets through.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = Scratch.write(UnsafeRawBufferPointer(start: data, count: size), to: "model.gguf")
    do {
        let (file, checkpoint) = try GGUFReader.read(url)
        Exercise.consume(checkpoint)
        blackHole(file.metadata.map { "\($0.key)=\($0.value.rendered)" })
        var sources: [any TensorByteSource] = checkpoint.tensors
        sources += checkpoint.tensors.compactMap { Q8_0DequantizingTensor($0, name: $0.name + ".f32") }
        let copy = url.deletingLastPathComponent().appendingPathComponent("copy.gguf")
        defer { try? FileManager.default.removeItem(at: copy) }
        // Tensors the writer cannot lay out (a name repeated by the ".f32" suffix) are refused, not trapped.
        do {
            try GGUFWriter.write(sources, metadata: file.metadata, to: copy.path)
            Exercise.run { try GGUFReader.open(copy) }
        } catch {
            Exercise.render(error)
        }
    } catch {
        Exercise.render(error)
    }
    return 0
}

exit(CFuzzDriver_run(CommandLine.argc, CommandLine.unsafeArgv))
