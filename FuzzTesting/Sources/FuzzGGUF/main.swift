import CFuzzDriver
import Convert
import Formats
import Foundation
import FuzzSupport
import Verify

/// The input is a `.gguf` file. Besides reading every tensor, each accepted file's typed metadata
/// is rendered and the file is written back (`GGUFWriter`) and read again, and every Q8_0 tensor
/// is dequantized, so the writer and the Q8_0 kernels see what the reader lets through. A file that
/// reads as llama.cpp's T5 (architecture `t5`) is then analysed as a model, checked for parity
/// against itself (both forward passes read its weights, Q8_0 by blocks) and converted.
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
        exerciseT5(url)
    } catch {
        Exercise.render(error)
    }
    return 0
}

/// The T5 path: `AnalyzedCheckpoint` maps the names and cross-checks the `t5.*` keys; for a model
/// that passes, the parity check and a conversion (to safetensors, dequantizing) run over it.
private func exerciseT5(_ url: URL) {
    do {
        let analyzed = try AnalyzedCheckpoint(opening: url)
        guard case .success = analyzed.t5 else {
            if case let .failure(error) = analyzed.t5 { Exercise.render(error) }
            return
        }
        blackHole(try Parity.check(analyzed, against: analyzed).passed)
        let output = url.deletingLastPathComponent().appendingPathComponent("converted.safetensors")
        defer { try? FileManager.default.removeItem(at: output) }
        blackHole(try VerifiedConversion.run(.init(source: url, destination: output, force: true)).parity?.passed)
    } catch {
        Exercise.render(error)
    }
}

exit(CFuzzDriver_run(CommandLine.argc, CommandLine.unsafeArgv))
