import Convert
import Formats
import Foundation

/// The reference T5 forward pass: encoder, decoder and LM head, in fp32, with the math of
/// transformers' `T5ForConditionalGeneration` (no attention scaling, RMSNorm, relative position
/// buckets shared from each stack's first layer, tied-embedding output scaling).
///
/// Weights are read a layer at a time from the checkpoint's file, so memory holds one layer plus
/// activations; the LM head is applied a block of vocabulary rows at a time.
public struct T5ForwardPass {
    /// Inputs of one run: token ids per batch row, and masks (1 = attend, 0 = padding).
    public struct Batch: Sendable {
        public var inputIDs: [[Int]]
        public var attentionMask: [[Int]]
        public var decoderInputIDs: [[Int]]
        public var decoderAttentionMask: [[Int]]

        /// A batch whose masks are all ones.
        public init(inputIDs: [[Int]], decoderInputIDs: [[Int]]) {
            self.init(
                inputIDs: inputIDs, attentionMask: inputIDs.map { $0.map { _ in 1 } }, decoderInputIDs: decoderInputIDs,
                decoderAttentionMask: decoderInputIDs.map { $0.map { _ in 1 } })
        }

        public init(inputIDs: [[Int]], attentionMask: [[Int]], decoderInputIDs: [[Int]], decoderAttentionMask: [[Int]])
        {
            self.inputIDs = inputIDs
            self.attentionMask = attentionMask
            self.decoderInputIDs = decoderInputIDs
            self.decoderAttentionMask = decoderAttentionMask
        }
    }

    /// What a run produces, flattened row-major.
    public struct Output: Sendable {
        public let batchSize: Int
        public let encoderLength: Int
        public let decoderLength: Int
        public let modelDimension: Int
        public let vocabularySize: Int
        /// `[batch, encoderLength, d_model]`.
        public let encoderLastHiddenState: [Float]
        /// `[batch, decoderLength, vocab]`.
        public let logits: [Float]
        /// The precision the activations were kept in.
        public let precision: ComputePrecision
        /// Activations that overflowed the precision (fp16) and where the first one did.
        public let overflowedActivations: Int
        public let firstOverflow: String?
    }

    /// Which cores the pass may count on.
    public enum Cores: Sendable {
        /// Both, to itself (`zoo run`, `zoo verify` of one model): the thread that reads the
        /// weights ahead multiplies too, whenever it is ahead.
        case own
        /// Shared with other work (a verification runs both passes beside the tensor comparison
        /// and SHA-256): that thread only reads. Multiplying there too added 5-9% CPU time to a
        /// verified conversion of the large-dm128 shape (interleaved A/B, 15 rounds), and the
        /// cores are busy anyway.
        case shared
    }

    let weights: T5Weights
    let precision: ComputePrecision
    let cores: Cores
    /// Checked before each block: a pass nobody needs any more (its conversion failed) stops.
    let cancellation: CancellationFlag?
    private let rounding: ActivationRounding
    var config: T5Config { weights.config }

    /// A forward pass over `checkpoint`, read under its own names and layout: transformers' or
    /// Mesh-TF's (see `T5Naming`); nothing is renamed or copied first.
    ///
    /// - Parameter precision: where activations are kept (fp32 by default; see `ComputePrecision`).
    /// - Parameter cores: whether the pass has both cores to itself (`Cores`).
    /// - Parameter cancellation: when set, `run` throws `CancellationError` at the next block.
    public init(
        checkpoint: Checkpoint, config: T5Config, precision: ComputePrecision = .fp32, cores: Cores = .own,
        cancellation: CancellationFlag? = nil
    ) {
        weights = T5Weights(checkpoint: checkpoint, config: config)
        self.precision = precision
        self.cores = cores
        self.cancellation = cancellation
        rounding = ActivationRounding(precision)
    }

    /// Runs the model on `batch`.
    ///
    /// Every row of the batch goes through each matrix product at once (`[rows x length, d_model]`
    /// activations), so each weight is read once per pass whatever the batch size; attention is
    /// the one step taken sequence by sequence, with padding masked as transformers masks it.
    ///
    /// - Throws: `VerifyError.invalidBatch` for ragged or out-of-vocabulary inputs; reading errors.
    public func run(_ batch: Batch) throws -> Output {
        try validate(batch)
        // The second core reads and widens the next weights while this one multiplies (and
        // multiplies too when ahead, `Cores.own`): each BLAS call runs on its calling thread
        // alone (OpenBLAS's own workers would compete for the cores).
        BLAS.prepare()
        weights.startPrefetching(sharingProducts: cores == .own)
        return try runPrefetched(batch)
    }

    private func runPrefetched(_ batch: Batch) throws -> Output {
        let encoderLength = batch.inputIDs[0].count
        let decoderLength = batch.decoderInputIDs[0].count
        let encoded = try encode(batch.inputIDs, masks: batch.attentionMask)
        let decoded = try decode(
            batch.decoderInputIDs, masks: batch.decoderAttentionMask, encoded: encoded,
            encoderMasks: batch.attentionMask)
        let logits = try languageModelHead(decoded)
        return Output(
            batchSize: batch.inputIDs.count, encoderLength: encoderLength, decoderLength: decoderLength,
            modelDimension: config.dModel, vocabularySize: config.vocabSize, encoderLastHiddenState: encoded.values,
            logits: logits.values, precision: precision, overflowedActivations: rounding.overflowed,
            firstOverflow: rounding.firstOverflow)
    }

    // MARK: - Stacks

    /// The value transformers adds to masked attention scores: `torch.finfo(float32).min`.
    static let maskedScore = -Float.greatestFiniteMagnitude

    /// The encoder over every row: `[rows x length, d_model]`.
    private func encode(_ ids: [[Int]], masks: [[Int]]) throws -> Matrix {
        var hidden = try embed(ids.flatMap { $0 }, .encoder)
        let bias = try positionBias(.encoder, length: ids[0].count)
        let keyMasks = masks.map { $0.map { $0 == 0 ? Self.maskedScore : 0 } }
        for block in 0..<config.numLayers {
            try cancellation?.check()
            let normed = try rmsNorm(hidden, .layerNorm(.encoder, block: block, sublayer: 0))
            let attended = try attention(
                normed, keysValues: normed, sequences: ids.count, .encoder, block: block, .selfAttention, bias: bias
            ) { sequence, _, key in
                keyMasks[sequence][key]
            }
            hidden = residual(hidden, attended)
            let transformed = try feedForward(
                try rmsNorm(hidden, .layerNorm(.encoder, block: block, sublayer: 1)), .encoder, block: block)
            hidden = residual(hidden, transformed)
        }
        return try rmsNorm(hidden, .finalLayerNorm(.encoder))
    }

    /// The decoder over every row, attending to `encoded` (the encoder's rows, in the same order).
    private func decode(_ ids: [[Int]], masks: [[Int]], encoded: Matrix, encoderMasks: [[Int]]) throws -> Matrix {
        var hidden = try embed(ids.flatMap { $0 }, .decoder)
        let bias = try positionBias(.decoder, length: ids[0].count)
        let crossMasks = encoderMasks.map { $0.map { $0 == 0 ? Self.maskedScore : 0 } }
        for block in 0..<config.numDecoderLayers {
            try cancellation?.check()
            let normed = try rmsNorm(hidden, .layerNorm(.decoder, block: block, sublayer: 0))
            let attended = try attention(
                normed, keysValues: normed, sequences: ids.count, .decoder, block: block, .selfAttention, bias: bias
            ) { sequence, query, key in
                key > query || masks[sequence][key] == 0 ? Self.maskedScore : 0
            }
            hidden = residual(hidden, attended)
            let crossInput = try rmsNorm(hidden, .layerNorm(.decoder, block: block, sublayer: 1))
            let crossAttended = try attention(
                crossInput, keysValues: encoded, sequences: ids.count, .decoder, block: block, .crossAttention,
                bias: nil
            ) { sequence, _, key in
                crossMasks[sequence][key]
            }
            hidden = residual(hidden, crossAttended)
            let transformed = try feedForward(
                try rmsNorm(hidden, .layerNorm(.decoder, block: block, sublayer: 2)), .decoder, block: block)
            hidden = residual(hidden, transformed)
        }
        return try rmsNorm(hidden, .finalLayerNorm(.decoder))
    }

    /// The self-attention bias every layer of `stack` shares, from its first layer's bucket table:
    /// bidirectional in the encoder, causal in the decoder.
    private func positionBias(_ stack: T5Parameter.Stack, length: Int) throws -> [[Float]] {
        RelativePosition.bias(
            table: try weights.matrix(.relativeAttentionBias(stack)),
            queries: length, keys: length, bidirectional: stack == .encoder,
            maxDistance: config.relativeAttentionMaxDistance)
    }

    // MARK: - Layers

    /// `x · Wᵀ` for the weight `parameter` (`x · W` as BLAS reads a Mesh-TF kernel), stored at the
    /// pass's precision.
    private func linear(_ input: Matrix, _ parameter: T5Parameter, label: String? = nil) throws -> Matrix {
        try linears([(input, parameter)], label: label)[0]
    }

    /// Independent products of one step at once (an attention's q, k, v), so the weights'
    /// blocks can be shared between two threads (`T5Weights.products`); each stored at the
    /// pass's precision. A block of rows of each weight at a time (output features, or a Mesh-TF
    /// kernel's input features), so memory holds a block, not the matrix.
    private func linears(_ requests: [(input: Matrix, parameter: T5Parameter)], label: String? = nil) throws
        -> [Matrix]
    {
        var outputs = try weights.products(requests)
        for index in outputs.indices {
            let name = try label ?? weights.stored(requests[index].parameter).name
            rounding.store(&outputs[index], at: name)
        }
        return outputs
    }

    /// `hidden + update`, stored at the pass's precision, then transformers' fp16 clamp.
    private func residual(_ hidden: Matrix, _ update: Matrix) -> Matrix {
        var sum = hidden + update
        rounding.store(&sum, at: "a residual sum")
        rounding.clampAfterBlockStep(&sum)
        return sum
    }

    private func embed(_ ids: [Int], _ stack: T5Parameter.Stack) throws -> Matrix {
        var result = Matrix(zeros: ids.count, config.dModel)
        let table = T5Parameter.inputEmbedding(stack)
        for (row, id) in ids.enumerated() {
            try weights.withRows(table, id..<(id + 1)) { embedding in
                for column in 0..<config.dModel { result[row, column] = embedding.values[column] }
            }
        }
        return result
    }

    /// `x * rsqrt(mean(x²) + ε) * w`, with no mean subtraction and no bias; the mean in fp32.
    private func rmsNorm(_ hidden: Matrix, _ parameter: T5Parameter) throws -> Matrix {
        let weightName = try weights.stored(parameter).name
        let weight = try weights.matrix(parameter).values
        var normalized = hidden
        let epsilon = Float(config.layerNormEpsilon)
        for row in 0..<hidden.rows {
            var sum: Float = 0
            for column in 0..<hidden.columns { sum += hidden[row, column] * hidden[row, column] }
            let scale = 1 / (sum / Float(hidden.columns) + epsilon).squareRoot()
            for column in 0..<hidden.columns { normalized[row, column] = hidden[row, column] * scale }
        }
        // transformers casts the normalised values to the weight's dtype, then multiplies.
        rounding.store(&normalized, at: weightName)
        for row in 0..<hidden.rows {
            for column in 0..<hidden.columns { normalized[row, column] *= weight[column] }
        }
        rounding.store(&normalized, at: weightName)
        return normalized
    }

    /// Multi-head attention with no `1/√d_kv` scaling: `softmax(q kᵀ + bias + mask) v`, then `o`.
    ///
    /// `queries` and `keysValues` hold `sequences` sequences of equal length one after another;
    /// the projections run over all of them at once, the scores sequence by sequence. `mask` gets
    /// (sequence, query, key) positions within a sequence.
    private func attention(
        _ queries: Matrix, keysValues: Matrix, sequences: Int, _ stack: T5Parameter.Stack, block: Int,
        _ kind: T5Parameter.Attention, bias: [[Float]]?, mask: (Int, Int, Int) -> Float
    ) throws -> Matrix {
        func projection(_ which: T5Parameter.Projection) -> T5Parameter { .attention(stack, block: block, kind, which) }
        let prefix = "\(stack.rawValue) block \(block) \(kind == .selfAttention ? "self" : "cross")-attention"
        let qkv = try linears([(queries, projection(.q)), (keysValues, projection(.k)), (keysValues, projection(.v))])
        let (q, k, v) = (qkv[0], qkv[1], qkv[2])
        let inner = config.innerDimension
        let headSize = config.dKV
        let queryCount = queries.rows / sequences
        let keyCount = keysValues.rows / sequences
        var context = Matrix(zeros: queries.rows, inner)
        var scores = [Float](repeating: 0, count: queryCount * keyCount)
        for sequence in 0..<sequences {
            // Element offsets of this sequence's first query and first key row.
            let queryStart = sequence * queryCount * inner
            let keyStart = sequence * keyCount * inner
            for head in 0..<config.numHeads {
                q.values.withUnsafeBufferPointer { qBuffer in
                    k.values.withUnsafeBufferPointer { kBuffer in
                        scores.withUnsafeMutableBufferPointer { sBuffer in
                            guard let qBase = qBuffer.baseAddress, let kBase = kBuffer.baseAddress,
                                let sBase = sBuffer.baseAddress
                            else { return }
                            multiplyTransposed(
                                qBase + queryStart + head * headSize, rowStrideA: inner,
                                kBase + keyStart + head * headSize, rowStrideB: inner,
                                into: sBase, rowStrideC: keyCount, m: queryCount, n: keyCount, k: headSize)
                        }
                    }
                }
                for query in 0..<queryCount {
                    let row = query * keyCount
                    var largest = -Float.infinity
                    for key in 0..<keyCount {
                        var score = scores[row + key]
                        if let bias { score += bias[head][row + key] }
                        score += mask(sequence, query, key)
                        scores[row + key] = score
                        largest = max(largest, score)
                    }
                    var total: Float = 0
                    for key in 0..<keyCount {
                        let weight = expf(scores[row + key] - largest)
                        scores[row + key] = weight
                        total += weight
                    }
                    for key in 0..<keyCount { scores[row + key] /= total }
                }
                // Softmax runs in fp32 (transformers upcasts it); its result is stored at the pass's precision.
                if precision != .fp32 {
                    var probabilities = Matrix(rows: queryCount, columns: keyCount, values: scores)
                    rounding.store(&probabilities, at: "\(prefix) softmax")
                    scores = probabilities.values
                }
                scores.withUnsafeBufferPointer { sBuffer in
                    v.values.withUnsafeBufferPointer { vBuffer in
                        context.values.withUnsafeMutableBufferPointer { cBuffer in
                            guard let sBase = sBuffer.baseAddress, let vBase = vBuffer.baseAddress,
                                let cBase = cBuffer.baseAddress
                            else { return }
                            multiply(
                                sBase, rowStrideA: keyCount, vBase + keyStart + head * headSize, rowStrideB: inner,
                                into: cBase + queryStart + head * headSize, rowStrideC: inner, m: queryCount,
                                n: headSize, k: keyCount)
                        }
                    }
                }
            }
        }
        rounding.store(&context, at: "\(prefix) context")
        return try linear(context, projection(.o))
    }

    /// `wo(relu(wi x))`, or `wo(gelu_tanh(wi_0 x) * wi_1 x)` for gated-GELU models.
    private func feedForward(_ hidden: Matrix, _ stack: T5Parameter.Stack, block: Int) throws -> Matrix {
        func matrix(_ which: T5Parameter.FeedForwardMatrix) -> T5Parameter { .feedForward(stack, block: block, which) }
        var inner: Matrix
        switch config.feedForward {
        case .relu:
            inner = try linear(hidden, matrix(.wi))
            for index in inner.values.indices { inner.values[index] = max(inner.values[index], 0) }
        case .gatedGelu:
            let inputs = try linears([(hidden, matrix(.wi0)), (hidden, matrix(.wi1))])
            inner = inputs[0]
            let gate = inputs[1]
            for index in inner.values.indices {
                inner.values[index] = Self.geluTanh(inner.values[index]) * gate.values[index]
            }
            rounding.store(&inner, at: "\(stack.rawValue) block \(block) feed-forward gate")
        }
        return try linear(inner, matrix(.wo))
    }

    /// transformers' `gelu_new`: `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    static func geluTanh(_ x: Float) -> Float {
        0.5 * x * (1 + tanhf(0.797_884_56 * (x + 0.044_715 * x * x * x)))
    }

    /// Logits: the decoder output, scaled by `d_model^-0.5` when the head is the tied embedding,
    /// times the output embedding, a block of vocabulary rows at a time.
    private func languageModelHead(_ hidden: Matrix) throws -> Matrix {
        var scaled = hidden
        if config.tieWordEmbeddings {
            let scale = 1 / Float(config.dModel).squareRoot()
            for index in scaled.values.indices { scaled.values[index] *= scale }
            rounding.store(&scaled, at: "the tied output scaling")
        }
        return try linear(scaled, weights.outputEmbedding, label: "the LM head")
    }

    private func validate(_ batch: Batch) throws {
        let rows = batch.inputIDs.count
        guard rows > 0, batch.attentionMask.count == rows, batch.decoderInputIDs.count == rows,
            batch.decoderAttentionMask.count == rows
        else { throw VerifyError.invalidBatch("every input needs the same number of rows, at least one") }
        let encoderLength = batch.inputIDs[0].count
        let decoderLength = batch.decoderInputIDs[0].count
        guard encoderLength > 0, decoderLength > 0 else { throw VerifyError.invalidBatch("empty input") }
        for row in 0..<rows {
            guard batch.inputIDs[row].count == encoderLength, batch.attentionMask[row].count == encoderLength,
                batch.decoderInputIDs[row].count == decoderLength,
                batch.decoderAttentionMask[row].count == decoderLength
            else { throw VerifyError.invalidBatch("row \(row) has a different length (pad rows to one length)") }
            for id in batch.inputIDs[row] + batch.decoderInputIDs[row] where id < 0 || id >= config.vocabSize {
                throw VerifyError.invalidBatch("token id \(id) is outside the vocabulary (0..<\(config.vocabSize))")
            }
        }
    }
}
