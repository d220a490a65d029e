// swift-format-ignore-file: AlwaysUseLowerCamelCase

// (the JSON types here spell their properties as the keys of the JSON they print)
import ArgumentParser
import Convert
import Foundation
import ModelZoo

/// `zoo list`: the T5-Efficient family from the bundled registry.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the T5-Efficient checkpoints the registry knows: layers, d_model, parameters, size, status.")

    @Option(help: "Only this base size (tiny, mini, small, base, large, xl, xxl).")
    var base: String?

    @Flag(help: "Only checkpoints zoo can convert.")
    var supported = false

    @Flag(help: "Only the shared-parameter variants zoo refuses.")
    var unsupported = false

    @OptionGroup var output: JSONOutput
    var json: Bool { output.json }

    func validate() throws {
        if supported && unsupported { throw ValidationError("--supported and --unsupported exclude each other") }
        if let base, !ModelName.bases.contains(base) {
            throw ValidationError("no base '\(base)'; the bases are \(ModelName.bases.joined(separator: ", "))")
        }
    }

    func run() throws {
        let registry = try Registry.bundled()
        let entries = registry.checkpoints.filter { entry in
            (base == nil || entry.base == base) && (!supported || entry.isSupported)
                && (!unsupported || !entry.isSupported)
        }
        if json {
            try printJSON(entries.map(ListJSON.init))
            return
        }
        let width = max(entries.map(\.name.count).max() ?? 0, 4)
        print(
            "name".padding(toLength: width, withPad: " ", startingAt: 0)
                + "  layers  d_model   parameters   fp32 size  status")
        for entry in entries {
            let architecture = entry.architecture
            let layers = "\(architecture.numLayers)/\(architecture.numDecoderLayers)"
            let parameters = entry.parameters.map(grouped) ?? "-"
            let size = entry.bytes.map { ByteSize.describe($0.fp32) } ?? "-"
            let status =
                entry.isSupported
                ? (entry.upstream == .complete ? "supported" : "supported (upstream \(entry.upstream.rawValue))")
                : "unsupported"
            print(
                entry.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + layers.leftPadded(6) + "  " + String(architecture.dModel).leftPadded(7) + "  "
                    + parameters.leftPadded(11) + "  " + size.leftPadded(10) + "  " + status)
        }
        print("\(entries.count) checkpoints")
    }
}

/// One row of `zoo list --json`.
struct ListJSON: Encodable {
    let name: String
    let num_layers: Int
    let num_decoder_layers: Int
    let d_model: Int
    let parameters: Int?
    let fp32_bytes: Int?
    let status: String
    let upstream: String

    init(_ entry: Registry.Entry) {
        name = entry.name
        num_layers = entry.architecture.numLayers
        num_decoder_layers = entry.architecture.numDecoderLayers
        d_model = entry.architecture.dModel
        parameters = entry.parameters
        fp32_bytes = entry.bytes?.fp32
        status = entry.status.rawValue
        upstream = entry.upstream.rawValue
    }
}

extension String {
    /// Right-aligned in `width` columns.
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
