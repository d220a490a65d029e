import Testing

@testable import Convert

@Suite struct MeshTFNamesTests {
    @Test func mapsTheTableOfFormatsMD() {
        let expected: [(String, MeshTFMapping)] = [
            ("shared/embedding", .tensor(name: "shared.weight", transposed: false)),
            (
                "encoder/block_000/layer_000/SelfAttention/q",
                .tensor(name: "encoder.block.0.layer.0.SelfAttention.q.weight", transposed: true)
            ),
            (
                "encoder/block_011/layer_000/SelfAttention/o",
                .tensor(name: "encoder.block.11.layer.0.SelfAttention.o.weight", transposed: true)
            ),
            (
                "decoder/block_000/layer_000/SelfAttention/relative_attention_bias",
                .tensor(name: "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", transposed: true)
            ),
            (
                "encoder/block_002/layer_000/layer_norm/scale",
                .tensor(name: "encoder.block.2.layer.0.layer_norm.weight", transposed: false)
            ),
            (
                "encoder/block_002/layer_001/DenseReluDense/wi/kernel",
                .tensor(name: "encoder.block.2.layer.1.DenseReluDense.wi.weight", transposed: true)
            ),
            (
                "decoder/block_001/layer_001/EncDecAttention/k",
                .tensor(name: "decoder.block.1.layer.1.EncDecAttention.k.weight", transposed: true)
            ),
            (
                "decoder/block_001/layer_002/DenseReluDense/wi_0/kernel",
                .tensor(name: "decoder.block.1.layer.2.DenseReluDense.wi_0.weight", transposed: true)
            ),
            (
                "decoder/block_001/layer_002/DenseReluDense/wo/kernel",
                .tensor(name: "decoder.block.1.layer.2.DenseReluDense.wo.weight", transposed: true)
            ),
            ("decoder/final_layer_norm/scale", .tensor(name: "decoder.final_layer_norm.weight", transposed: false)),
            ("decoder/logits/kernel", .tensor(name: "lm_head.weight", transposed: true)),
            // The newer spellings transformers' loader accepts.
            ("encoder/rms_norm/scale", .tensor(name: "encoder.final_layer_norm.weight", transposed: false)),
            (
                "decoder/block_003/layer_001/rms_norm/scale",
                .tensor(name: "decoder.block.3.layer.1.layer_norm.weight", transposed: false)
            ),
            (
                "decoder/block_003/enc_dec_attention/v",
                .tensor(name: "decoder.block.3.layer.1.EncDecAttention.v.weight", transposed: true)
            ),
            (
                "encoder/block_003/dense_relu_dense/DenseReluDense/wo/kernel",
                .tensor(name: "encoder.block.3.layer.1.DenseReluDense.wo.weight", transposed: true)
            ),
            // Optimizer state and the step counter are skipped, with the reason.
            ("encoder/block_000/layer_000/SelfAttention/q_slot_vc", .skipped(.adafactorSlot)),
            ("encoder/block_000/layer_000/SelfAttention/q_slot_vr", .skipped(.adafactorSlot)),
            ("encoder/block_000/layer_000/layer_norm/scale_slot_v", .skipped(.adafactorSlot)),
            ("shared/embedding/adam_m", .skipped(.adamState)),
            ("global_step", .skipped(.globalStep)),
        ]
        for (name, mapping) in expected {
            #expect(MeshTFNames.mapping(for: name) == mapping, "\(name)")
        }
    }

    @Test func leavesEverythingElseUnmapped() {
        let strangers = [
            "", "shared", "shared/embedding/extra", "encoder", "encoder/block_000",
            "encoder/block_x/layer_000/SelfAttention/q",
            "encoder/block_-01/layer_000/SelfAttention/q", "encoder/block_000/layer_002/DenseReluDense/wi/kernel",
            "encoder/block_000/layer_001/EncDecAttention/q", "encoder/block_000/enc_dec_attention/q",
            "encoder/block_001/layer_000/SelfAttention/relative_attention_bias",
            "decoder/block_000/layer_001/SelfAttention/q", "encoder/block_000/layer_000/SelfAttention/kv",
            "encoder/block_000/layer_000/SelfAttention/q/kernel", "encoder/block_000/layer_001/DenseReluDense/wi",
            "encoder/block_000/layer_001/DenseReluDense/wi_2/kernel", "encoder/logits/kernel",
            "middle/final_layer_norm/scale",
            "encoder/block_0000000/layer_000/SelfAttention/q",
        ]
        for name in strangers {
            #expect(MeshTFNames.mapping(for: name) == nil, "\(name)")
        }
    }

    /// Every tensor of both feed-forward kinds, tied and untied, maps to a Mesh-TF name that maps back.
    @Test(arguments: [T5Config.FeedForward.relu, .gatedGelu])
    func roundTripsEveryTensorOfAModel(feedForward: T5Config.FeedForward) throws {
        let config = T5Config(
            vocabSize: 64, dModel: 8, dKV: 2, dFF: 16, numHeads: 2, numLayers: 3, numDecoderLayers: 12,
            feedForward: feedForward, tieWordEmbeddings: false)
        var meshNames = Set<String>()
        for (name, _) in config.expectedTensors {
            let mesh = try #require(MeshTFNames.meshTFName(forHF: name), "\(name)")
            #expect(MeshTFNames.mapping(for: mesh.name) == .tensor(name: name, transposed: mesh.transposed))
            meshNames.insert(mesh.name)
        }
        #expect(meshNames.count == config.expectedTensors.count)
        #expect(meshNames.contains("decoder/block_011/layer_002/DenseReluDense/wo/kernel"))
        for alias in [
            "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "encoder.block.0.layer.2.layer_norm.weight",
        ] {
            #expect(MeshTFNames.meshTFName(forHF: alias) == nil)
        }
    }
}

@Suite struct MeshTFGinConfigTests {
    /// The shape of a real T5-Efficient `operative_config.gin`: macros, scoped bindings, `\`
    /// continuations, a list spread over lines, comments.
    static let operativeConfig = """
        import mesh_tensorflow.optimize
        import t5.models.mesh_transformer

        # Macros:
        # ==============================================================================
        d_ff = 2048
        d_kv = 64
        d_model = 512
        num_heads = 8
        num_layers = 6

        # Parameters for encoder/DenseReluDense:
        # ==============================================================================
        encoder/DenseReluDense.activation = 'relu'
        encoder/DenseReluDense.hidden_size = %d_ff

        # Parameters for decoder/make_layer_stack:
        decoder/make_layer_stack.layers = \\
        [@mesh_tensorflow.transformer.transformer_layers.SelfAttention,
        @mesh_tensorflow.transformer.transformer_layers.EncDecAttention,
        @mesh_tensorflow.transformer.transformer_layers.DenseReluDense]
        decoder/make_layer_stack.num_layers = %num_layers
        encoder/make_layer_stack.num_layers = 32
        run.layout_rules = \\
            'ensemble:ensemble,batch:batch,d_ff:model,heads:model,vocab:model,experts:batch'
        run.sequence_length = {'inputs': 512, 'targets': 128}  # a '#' inside quotes is text: '#'
        encoder/SelfAttention.key_value_size = %d_kv
        encoder/SelfAttention.num_heads = %num_heads
        encoder/SelfAttention.num_memory_heads = 0
        encoder/SelfAttention.shared_kv = False
        """

    @Test func readsTheT5Settings() throws {
        let gin = try GinBindings(parsing: Self.operativeConfig)
        #expect(gin.value(for: "encoder/DenseReluDense.hidden_size") == "2048")
        #expect(gin.bindings["run.sequence_length"] == "{'inputs': 512, 'targets': 128}")
        #expect(gin.bindings["decoder/make_layer_stack.layers"]?.hasSuffix("DenseReluDense]") == true)
        let config = try MeshTFGinConfig(gin, path: "operative_config.gin")
        #expect(config.dModel == 512 && config.dFF == 2048 && config.dKV == 64 && config.numHeads == 8)
        #expect(config.encoderLayers == 32 && config.decoderLayers == 6)
        #expect(config.feedForward == .relu)
        #expect(config.unsupportedVariant == nil)
    }

    @Test func readsGatedGeluAndRefusesOtherActivations() throws {
        let gated = try GinBindings(parsing: "DenseReluDense.activation = ['gelu', 'linear']\n")
        #expect(try MeshTFGinConfig(gated, path: "g").feedForward == .gatedGelu)
        let swish = try GinBindings(parsing: "DenseReluDense.activation = 'swish'\n")
        #expect(throws: ConvertError.self) { try MeshTFGinConfig(swish, path: "g") }
        let notNumber = try GinBindings(parsing: "d_model = 'wide'\n")
        #expect(throws: ConvertError.self) { try MeshTFGinConfig(notNumber, path: "g") }
    }

    @Test func recognisesTheSharedVariantsFromGin() throws {
        let cases: [(String, UnsupportedT5Variant?)] = [
            ("encoder/SelfAttention.shared_kv = True\n", .sharedKeyValue),
            ("SelfAttention.num_memory_heads = 1\n", .sharedHeads),
            (
                "heads = 1\nSelfAttention.num_memory_heads = %heads\nEncDecAttention.shared_kv = True\n",
                .sharedHeadsAndKeyValue
            ),
            ("SelfAttention.num_memory_heads = 0\nSelfAttention.shared_kv = False\n", nil),
        ]
        for (text, variant) in cases {
            let config = try MeshTFGinConfig(GinBindings(parsing: text), path: "g")
            #expect(config.unsupportedVariant == variant, "\(text)")
        }
    }

    @Test func recognisesTheSharedVariantsFromTensorShapes() {
        let standard = [
            "e/block_000/layer_000/SelfAttention/q": [8, 4], "e/block_000/layer_000/SelfAttention/k": [8, 4],
        ]
        #expect(UnsupportedT5Variant.detect(inTensorShapes: standard) == nil)
        var narrow = standard
        narrow["e/block_000/layer_000/SelfAttention/k"] = [8, 2]
        #expect(UnsupportedT5Variant.detect(inTensorShapes: narrow) == .sharedHeads)
        let shared = [
            "e/block_000/layer_000/SelfAttention/q": [8, 4], "e/block_000/layer_000/SelfAttention/kv": [8, 4],
        ]
        #expect(UnsupportedT5Variant.detect(inTensorShapes: shared) == .sharedKeyValue)
        let both = [
            "e/block_000/layer_001/EncDecAttention/q": [8, 4], "e/block_000/layer_001/EncDecAttention/kv": [8, 2],
        ]
        #expect(UnsupportedT5Variant.detect(inTensorShapes: both) == .sharedHeadsAndKeyValue)
        #expect(UnsupportedT5Variant.sharedHeads.reason.contains("transformers"))
    }

    @Test func refusesMalformedGin() {
        let bad: [(String, Int)] = [
            ("d_model = 512\nthis is not a binding\n", 2),
            ("bad name! = 3\n", 1),
            ("x = [1,\n2\n", 1),
            ("x = 'unterminated\n", 1),
        ]
        for (text, line) in bad {
            #expect(throws: GinBindings.ParseError.self, "\(text)") { try GinBindings(parsing: text) }
            do {
                _ = try GinBindings(parsing: text)
            } catch {
                #expect(error.line == line, "\(text)")
            }
        }
    }

    @Test func stopsOnMacroCycles() throws {
        let gin = try GinBindings(parsing: "a = %b\nb = %a\nc = %missing\n")
        #expect(gin.value(for: "a") == nil)
        #expect(gin.value(for: "c") == nil)
    }
}
