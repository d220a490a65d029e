// swift-format-ignore-file: AlwaysUseLowerCamelCase

// (the JSON types here spell their properties as the keys of the JSON they print)
import ArgumentParser
import Convert
import Formats
import Foundation
import Verify

/// `zoo run CHECKPOINT --input-ids ... --decoder-input-ids ...`: the reference forward pass.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a checkpoint's forward pass (fp32) and print its logits and top tokens.",
        discussion: """
            Each --input-ids / --decoder-input-ids gives one batch row as comma-separated token ids. \
            Rows of different lengths are padded with 0 and masked, as a tokenizer's padding would.
            """)

    @Argument(help: "A checkpoint file, index or model directory (any format zoo reads).")
    var checkpoint: String

    @Option(name: .customLong("input-ids"), help: "Encoder token ids of one row, e.g. 5,6,7 (repeat for a batch).")
    var inputIDs: [String]

    @Option(name: .customLong("decoder-input-ids"), help: "Decoder token ids of one row, e.g. 0,5.")
    var decoderInputIDs: [String]

    @Option(help: "How many top tokens to print per position.")
    var top = 5

    @Option(help: "Keep activations in fp32 (default), bf16 or fp16 (fp16 reproduces fp16 overflow).")
    var precision: ComputePrecision = .fp32

    @Flag(help: "Print {\"logits\": [[[...]]], \"encoder_last_hidden_state\": [[[...]]], ...} for scripts.")
    var json = false

    @Option(
        name: .customLong("repeat"), help: "Run the forward pass this many times and print the median time on stderr.")
    var repeatCount: Int = 1

    func validate() throws {
        guard !inputIDs.isEmpty, inputIDs.count == decoderInputIDs.count else {
            throw ValidationError("give as many --decoder-input-ids rows as --input-ids rows (at least one)")
        }
        _ = try Self.parseRows(inputIDs)
        _ = try Self.parseRows(decoderInputIDs)
    }

    func run() throws {
        // A Mesh-TF checkpoint runs as it is stored: its own names, `[in, out]` kernels.
        let analyzed = try AnalyzedCheckpoint(opening: URL(fileURLWithPath: checkpoint))
        let model = try analyzed.t5.get()
        let (encoder, encoderMask) = Self.padded(try Self.parseRows(inputIDs))
        let (decoder, decoderMask) = Self.padded(try Self.parseRows(decoderInputIDs))
        let pass = T5ForwardPass(checkpoint: analyzed.checkpoint, config: model.config, precision: precision)
        let batch = T5ForwardPass.Batch(
            inputIDs: encoder, attentionMask: encoderMask, decoderInputIDs: decoder, decoderAttentionMask: decoderMask)
        var output = try pass.run(batch)
        if repeatCount > 1 {
            var seconds: [Double] = []
            for _ in 0..<repeatCount {
                let start = DispatchTime.now().uptimeNanoseconds
                output = try pass.run(batch)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let median = seconds.sorted()[seconds.count / 2]
            let kernels = BLAS.kernels.map { ", OpenBLAS kernels \($0)" } ?? ""
            Terminal.writeError(
                String(format: "forward pass: median %.4f s over %d runs%@\n", median, repeatCount, kernels))
        }
        if json {
            try printJSON(RunJSON(output, top: top))
        } else {
            if output.overflowedActivations > 0 {
                print(
                    "warning: \(output.overflowedActivations) activations overflowed \(precision.rawValue), "
                        + "first at \(output.firstOverflow ?? "?"); transformers clamps them as fp16 inference does")
            }
            for row in 0..<output.batchSize {
                print("row \(row): input \(encoder[row]), decoder \(decoder[row])")
                for position in 0..<output.decoderLength {
                    let best = RunJSON.topTokens(output, row: row, position: position, count: top)
                    print(
                        "  position \(position): "
                            + best.map { "\($0.token) (\(String(format: "%.4f", $0.logit)))" }.joined(separator: ", "))
                }
            }
        }
    }

    static func parseRows(_ rows: [String]) throws -> [[Int]] {
        try rows.map { row in
            let ids = row.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !ids.isEmpty, ids.allSatisfy({ $0 != nil }) else {
                throw ValidationError("'\(row)' is not a comma-separated list of token ids")
            }
            return ids.compactMap { $0 }
        }
    }

    /// Pads rows with token 0 to one length and returns the matching masks.
    static func padded(_ rows: [[Int]]) -> ([[Int]], [[Int]]) {
        let length = rows.map(\.count).max() ?? 0
        let ids = rows.map { $0 + [Int](repeating: 0, count: length - $0.count) }
        let masks = rows.map { [Int](repeating: 1, count: $0.count) + [Int](repeating: 0, count: length - $0.count) }
        return (ids, masks)
    }
}

/// `zoo run --json` output.
struct RunJSON: Encodable {
    struct Token: Encodable {
        let token: Int
        let logit: Float
    }

    let logits: [[[Float]]]
    let encoder_last_hidden_state: [[[Float]]]
    let top_tokens: [[[Token]]]

    init(_ output: T5ForwardPass.Output, top: Int) {
        func nest(_ flat: [Float], _ rows: Int, _ length: Int, _ width: Int) -> [[[Float]]] {
            (0..<rows).map { row in
                (0..<length).map { position in
                    let start = (row * length + position) * width
                    return Array(flat[start..<(start + width)])
                }
            }
        }
        logits = nest(output.logits, output.batchSize, output.decoderLength, output.vocabularySize)
        encoder_last_hidden_state = nest(
            output.encoderLastHiddenState, output.batchSize, output.encoderLength, output.modelDimension)
        top_tokens = (0..<output.batchSize).map { row in
            (0..<output.decoderLength).map { position in
                Self.topTokens(output, row: row, position: position, count: top)
            }
        }
    }

    static func topTokens(_ output: T5ForwardPass.Output, row: Int, position: Int, count: Int) -> [Token] {
        let start = (row * output.decoderLength + position) * output.vocabularySize
        // Keep the best `count` in a small sorted list rather than sorting the whole vocabulary.
        var best: [Token] = []
        for token in 0..<output.vocabularySize {
            let logit = output.logits[start + token]
            guard best.count < count || logit > (best.last?.logit ?? -.infinity) else { continue }
            let index = best.firstIndex { $0.logit < logit } ?? best.count
            best.insert(Token(token: token, logit: logit), at: index)
            if best.count > count { best.removeLast() }
        }
        return best
    }
}

extension ComputePrecision: ExpressibleByArgument {}
