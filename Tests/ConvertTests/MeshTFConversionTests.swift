import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

/// Mesh-TF bundles built from the transformers fixtures, converted back to transformers' layout.
@Suite struct MeshTFConversionTests {
    /// Writes `hf` as a Mesh-TF bundle: table names, matrices transposed by a plain index loop
    /// (independent of `TransposingTensor`), plus Adafactor slots and `global_step`, over 2+ shards.
    private func writeMeshTF(
        from hf: Checkpoint, into directory: URL, gin: String? = nil, extra: [any TensorByteSource] = []
    ) throws -> URL {
        var tensors: [any TensorByteSource] = []
        for tensor in hf.tensors {
            let mesh = try #require(MeshTFNames.meshTFName(forHF: tensor.name), "\(tensor.name)")
            var bytes = tensor.withUnsafeBytes { Array($0) }
            var shape = tensor.shape
            if mesh.transposed {
                let (rows, columns, size) = (shape[0], shape[1], tensor.dtype.byteSize)
                var transposed = [UInt8](repeating: 0, count: bytes.count)
                for row in 0..<rows {
                    for column in 0..<columns {
                        for byte in 0..<size {
                            transposed[(column * rows + row) * size + byte] =
                                bytes[(row * columns + column) * size + byte]
                        }
                    }
                }
                bytes = transposed
                shape = [columns, rows]
            }
            tensors.append(Bytes(name: mesh.name, dtype: tensor.dtype, shape: shape, bytes: bytes))
            if shape.count == 2 {
                tensors.append(
                    Bytes(
                        name: mesh.name + "_slot_vr", dtype: .f32, shape: [shape[0]],
                        bytes: .init(repeating: 1, count: shape[0] * 4)))
                tensors.append(
                    Bytes(
                        name: mesh.name + "_slot_vc", dtype: .f32, shape: [shape[1]],
                        bytes: .init(repeating: 2, count: shape[1] * 4)))
            }
        }
        tensors.append(Bytes(name: "global_step", dtype: .i64, shape: [], bytes: [0, 0, 8, 0, 0, 0, 0, 0]))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let prefix = directory.appendingPathComponent("model.ckpt-524288")
        try TensorBundle.write(tensors + extra, prefix: prefix, shardSize: 200_000)
        if let gin {
            try gin.write(
                to: directory.appendingPathComponent("operative_config.gin"), atomically: true, encoding: .utf8)
        }
        return prefix
    }

    private static let sampleGin = """
        d_ff = 256
        d_kv = 16
        d_model = 64
        num_heads = 4
        num_layers = 4
        decoder/make_layer_stack.num_layers = 2
        encoder/make_layer_stack.num_layers = %num_layers
        encoder/DenseReluDense.activation = 'relu'
        encoder/SelfAttention.shared_kv = False
        """

    @Test(arguments: ["sample", "t5_gated_untied"])
    func convertsToTransformersBitForBit(fixture: String) throws {
        let temporary = TemporaryDirectory()
        let hfURL = fixture == "sample" ? Fixtures.sample : Fixtures.url(fixture)
        let hf = try Checkpoint.open(hfURL)
        let source = try writeMeshTF(
            from: hf, into: temporary.path("mesh"), gin: fixture == "sample" ? Self.sampleGin : nil)

        let analyzed = try AnalyzedCheckpoint(opening: source)
        let layout = try #require(analyzed.meshTF)
        #expect(layout.skipped.filter { $0.reason == .globalStep }.count == 1)
        #expect(
            layout.skipped.filter { $0.reason == .adafactorSlot }.count == 2
                * hf.tensors.filter { $0.shape.count == 2 }.count)
        #expect((layout.gin != nil) == (fixture == "sample"))
        let expectedModel = try AnalyzedCheckpoint(opening: hfURL).t5.get()
        #expect(try analyzed.t5.get().config == expectedModel.config)

        let destination = temporary.path("hf")
        let report = try Converter.run(try ConversionPlan(.init(source: source, destination: destination)))
        #expect(report.files == ["model.safetensors", "config.json"])
        let converted = try Checkpoint.open(destination)
        #expect(Set(converted.tensors.map(\.name)) == Set(hf.tensors.map(\.name)))
        for tensor in hf.tensors {
            let output = try #require(converted.tensor(named: tensor.name))
            #expect(output.firstDifference(from: tensor) == nil, "\(tensor.name)")
        }
        #expect(try AnalyzedCheckpoint(opening: destination).t5.get().config == expectedModel.config)
    }

    /// Checkpoints written by TensorFlow itself (bf16, Adafactor slots, `global_step`, 2 and 4
    /// shards) convert to what transformers' own `load_tf_weights_in_t5` produced, bit for bit.
    @Test(arguments: ["sample_meshtf", "gated_untied_meshtf"])
    func matchesTransformersTFLoader(fixture: String) throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("hf")
        let source = Fixtures.url("tf/\(fixture)")
        _ = try Converter.run(try ConversionPlan(.init(source: source, destination: destination, dtype: .f32)))
        let expected = try Checkpoint.open(Fixtures.url("tf/expected/\(fixture).safetensors"))
        let converted = try Checkpoint.open(destination)
        #expect(Set(converted.tensors.map(\.name)) == Set(expected.tensors.map(\.name)))
        for tensor in expected.tensors {
            let output = try #require(converted.tensor(named: tensor.name), "\(tensor.name)")
            #expect(output.firstDifference(from: tensor) == nil, "\(tensor.name)")
        }
        let layout = try #require(try AnalyzedCheckpoint(opening: source).meshTF)
        #expect(layout.gin != nil)
        #expect(layout.skipped.contains(.init(name: "global_step", reason: .globalStep)))
    }

    /// transformers -> Mesh-TF (`--to tf`) -> transformers is the identity, and the Mesh-TF side
    /// has the table's names and layout, a gin file that reads back, and 2+ shards.
    @Test(arguments: ["sample", "t5_gated_untied"])
    func writesMeshTFThatReadsBack(fixture: String) throws {
        let temporary = TemporaryDirectory()
        let hfURL = fixture == "sample" ? Fixtures.sample : Fixtures.url(fixture)
        let hf = try Checkpoint.open(hfURL)
        let meshURL = temporary.path("mesh")
        let report = try Converter.run(
            try ConversionPlan(.init(source: hfURL, destination: meshURL, shardSize: 100_000, format: .tensorflow)))
        #expect(report.files.contains("operative_config.gin") && report.files.contains("checkpoint"))
        #expect(report.files.filter { $0.contains(".data-") }.count >= 2)

        let mesh = try AnalyzedCheckpoint(opening: meshURL)
        #expect(mesh.checkpoint.format == .tensorflowBundle)
        let layout = try #require(mesh.meshTF)
        #expect(layout.skipped.isEmpty)
        let expectedModel = try AnalyzedCheckpoint(opening: hfURL).t5.get()
        let gin = try #require(layout.gin)
        let config = expectedModel.config
        #expect(gin.dModel == config.dModel && gin.dFF == config.dFF && gin.dKV == config.dKV)
        #expect(gin.numHeads == config.numHeads && gin.feedForward == config.feedForward)
        #expect(gin.encoderLayers == config.numLayers && gin.decoderLayers == config.numDecoderLayers)
        #expect(try mesh.t5.get().config == expectedModel.config)
        // One kernel checked element by element: Mesh-TF stores [in, out].
        let q = try #require(hf.tensor(named: "encoder.block.0.layer.0.SelfAttention.q.weight"))
        let meshQ = try #require(mesh.checkpoint.tensor(named: "encoder/block_000/layer_000/SelfAttention/q"))
        #expect(meshQ.shape == [q.shape[1], q.shape[0]])
        let (hfBytes, meshBytes) = (q.withUnsafeBytes { Array($0) }, meshQ.withUnsafeBytes { Array($0) })
        for (row, column) in [(0, 1), (q.shape[0] - 1, 0), (2, q.shape[1] - 1)] {
            let hfOffset = (row * q.shape[1] + column) * 4
            let meshOffset = (column * q.shape[0] + row) * 4
            #expect(hfBytes[hfOffset..<(hfOffset + 4)] == meshBytes[meshOffset..<(meshOffset + 4)])
        }

        let back = temporary.path("back")
        _ = try Converter.run(try ConversionPlan(.init(source: meshURL, destination: back)))
        let roundTripped = try Checkpoint.open(back)
        for tensor in hf.tensors {
            #expect(
                try #require(roundTripped.tensor(named: tensor.name)).firstDifference(from: tensor) == nil,
                "\(tensor.name)")
        }
        // Mesh-TF to Mesh-TF copies (the two transposes cancel).
        let copy = temporary.path("copy")
        _ = try Converter.run(try ConversionPlan(.init(source: meshURL, destination: copy, format: .tensorflow)))
        let copied = try Checkpoint.open(copy)
        for tensor in mesh.checkpoint.tensors {
            #expect(
                try #require(copied.tensor(named: tensor.name)).firstDifference(from: tensor) == nil, "\(tensor.name)")
        }
    }

    @Test func refusesTensorFlowOutputsItCannotWrite() throws {
        let temporary = TemporaryDirectory()
        #expect(throws: ConvertError.self) {
            try ConversionPlan(
                .init(source: Fixtures.sample, destination: temporary.path("z"), format: .tensorflow, compress: true))
        }
        #expect(
            throws: ConvertError.formatMismatch(
                destination: temporary.path("x.safetensors").path, asked: "tf", named: "safetensors")
        ) {
            try ConversionPlan(
                .init(source: Fixtures.sample, destination: temporary.path("x.safetensors"), format: .tensorflow))
        }
        #expect(throws: ConvertError.self) {
            try ConversionPlan(
                .init(source: Fixtures.url("dtypes.safetensors"), destination: temporary.path("y"), format: .tensorflow)
            )
        }
    }

    @Test func castsWhileTransposing() throws {
        let temporary = TemporaryDirectory()
        let source = try writeMeshTF(from: try Checkpoint.open(Fixtures.sample), into: temporary.path("mesh"))
        let bf16 = temporary.path("bf16")
        let report = try Converter.run(try ConversionPlan(.init(source: source, destination: bf16, dtype: .bf16)))
        // Transposed then cast must equal cast then (the reference) layout: compare with a direct cast.
        let direct = temporary.path("direct")
        _ = try Converter.run(try ConversionPlan(.init(source: Fixtures.sample, destination: direct, dtype: .bf16)))
        let expected = try Checkpoint.open(direct)
        let converted = try Checkpoint.open(bf16)
        for tensor in expected.tensors {
            #expect(
                try #require(converted.tensor(named: tensor.name)).firstDifference(from: tensor) == nil,
                "\(tensor.name)")
        }
        #expect(report.casts.count == expected.tensors.count)
    }

    @Test func refusesAnUnmappedVariable() throws {
        let temporary = TemporaryDirectory()
        let stray = Bytes(
            name: "encoder/block_000/layer_000/SelfAttention/q_bias", dtype: .f32, shape: [2],
            bytes: .init(repeating: 0, count: 8))
        let source = try writeMeshTF(
            from: try Checkpoint.open(Fixtures.sample), into: temporary.path("mesh"), extra: [stray])
        let analyzed = try AnalyzedCheckpoint(opening: source)
        #expect(analyzed.meshTF == nil)
        #expect(
            throws: ConvertError.unmappedTensor(
                path: try Checkpoint.open(source).location.path, tensor: stray.outputSpec.name)
        ) {
            try ConversionPlan(.init(source: source, destination: temporary.path("out")))
        }
        #expect(!FileManager.default.fileExists(atPath: temporary.path("out").path))
    }

    @Test func refusesSharedVariantsByGinAndByStructure() throws {
        let temporary = TemporaryDirectory()
        let sample = try Checkpoint.open(Fixtures.sample)
        let byGin = try writeMeshTF(
            from: sample, into: temporary.path("gin"), gin: Self.sampleGin + "\nSelfAttention.num_memory_heads = 1\n")
        #expect(
            throws: ConvertError.unsupportedVariant(
                path: temporary.path("gin/operative_config.gin").path, variant: "sh",
                reason: UnsupportedT5Variant.sharedHeads.reason)
        ) {
            try ConversionPlan(.init(source: byGin, destination: temporary.path("out1")))
        }
        let kv = Bytes(
            name: "encoder/block_000/layer_000/SelfAttention/kv", dtype: .f32, shape: [64, 64],
            bytes: .init(repeating: 0, count: 64 * 64 * 4))
        let byShape = try writeMeshTF(from: sample, into: temporary.path("shape"), extra: [kv])
        #expect(
            throws: ConvertError.unsupportedVariant(
                path: try Checkpoint.open(byShape).location.path, variant: "skv",
                reason: UnsupportedT5Variant.sharedKeyValue.reason)
        ) {
            try ConversionPlan(.init(source: byShape, destination: temporary.path("out2")))
        }
    }

    @Test func refusesAGinThatDisagreesWithTheTensors() throws {
        let temporary = TemporaryDirectory()
        let gin = Self.sampleGin.replacingOccurrences(of: "d_ff = 256", with: "d_ff = 512")
        let source = try writeMeshTF(from: try Checkpoint.open(Fixtures.sample), into: temporary.path("mesh"), gin: gin)
        #expect(
            throws: ConvertError.ginMismatch(
                path: temporary.path("mesh/operative_config.gin").path, field: "d_ff", gin: "512", tensors: "256")
        ) {
            try ConversionPlan(.init(source: source, destination: temporary.path("out")))
        }
    }

    @Test func transposesEveryElementSizeInBlocks() throws {
        // 3 x 5 of each size, gathered a row block at a time, against the index formula.
        for size in [2, 4, 8] {
            let input = (0..<(15 * size)).map { UInt8($0) }
            var output = [UInt8](repeating: 0, count: input.count)
            input.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { destination in
                    for block in [0..<2, 2..<5] {
                        TransposingTensor.gather(
                            from: source.baseAddress!, rows: 3, columns: 5, outputRows: block,
                            into: destination.baseAddress! + block.lowerBound * 3 * size, elementSize: size)
                    }
                }
            }
            for row in 0..<3 {
                for column in 0..<5 {
                    let from = (row * 5 + column) * size
                    let to = (column * 3 + row) * size
                    #expect(Array(output[to..<(to + size)]) == Array(input[from..<(from + size)]))
                }
            }
        }
    }
}

/// A tensor given by its bytes.
private struct Bytes: TensorByteSource {
    let outputSpec: TensorSpec
    let bytes: [UInt8]

    init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
        guard let spec = TensorSpec(name: name, dtype: dtype, shape: shape) else {
            preconditionFailure("a test tensor of shape \(shape) must fit")
        }
        outputSpec = spec
        self.bytes = bytes
    }

    func emit(into sink: inout some ByteSink) throws {
        try bytes.withUnsafeBytes { try sink.write($0) }
    }
}
