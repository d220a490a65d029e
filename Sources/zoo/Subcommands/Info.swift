// swift-format-ignore-file: AlwaysUseLowerCamelCase

// (the JSON types here spell their properties as the keys of the JSON they print)
import ArgumentParser
import Convert
import Foundation
import ModelZoo

/// `zoo info NAME`: everything the registry knows about one checkpoint.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a checkpoint's architecture, exact parameter count, sizes per dtype, location and status.")

    @Argument(help: "A T5-Efficient name, e.g. t5-efficient-large-dm128.")
    var name: String

    @OptionGroup var output: JSONOutput
    var json: Bool { output.json }

    func run() throws {
        let registry = try Registry.bundled()
        let entry = try registry.requireEntry(name)
        let config = entry.architecture.config
        // Counted from the architecture by the code that checks a loaded checkpoint's tensors.
        let breakdown = config.parameterBreakdown
        if json {
            try printJSON(InfoJSON(entry: entry, computed: entry.parameters == nil ? nil : config.parameterCount))
            return
        }
        let architecture = entry.architecture
        print(entry.name)
        print(
            "  architecture  \(architecture.numLayers) encoder / \(architecture.numDecoderLayers) decoder layers, "
                + "d_model \(architecture.dModel), d_ff \(architecture.dFf), d_kv \(architecture.dKv), "
                + "\(architecture.numHeads) heads, vocab \(architecture.vocabSize), \(architecture.feedForwardProj), "
                + "\(architecture.tieWordEmbeddings ? "tied" : "untied") embeddings (\(entry.architectureSource))")
        if let parameters = entry.parameters {
            print(
                "  parameters    \(grouped(parameters)) (embedding \(grouped(breakdown.embedding)), "
                    + "encoder \(grouped(breakdown.encoder)), decoder \(grouped(breakdown.decoder)))")
        } else {
            print("  parameters    not countable in T5's layout (shared parameters)")
        }
        if let bytes = entry.bytes {
            print(
                "  weights       fp32 \(ByteSize.describe(bytes.fp32)), fp16 \(ByteSize.describe(bytes.fp16)), "
                    + "bf16 \(ByteSize.describe(bytes.bf16))")
        }
        print("  status        \(entry.status)" + (entry.statusReason.map { ": \($0)" } ?? ""))
        print("  upstream      \(entry.upstream)")
        if let repo = entry.hfRepo {
            print(
                "  hugging face  \(repo)" + (entry.hfFiles.isEmpty ? "" : " (\(entry.hfFiles.joined(separator: ", ")))")
            )
        }
        for folder in entry.meshTfFolders { print("  mesh-tf       \(folder)") }
        for (file, digest) in entry.checksums.sorted(by: { $0.key < $1.key }) {
            print("  sha256        \(digest)  \(file)")
        }
        for note in entry.notes { print("  note          \(note)") }
    }
}

/// `zoo info --json` output.
struct InfoJSON: Encodable {
    let name: String
    let base: String
    let tokens: [String]
    let architecture: Registry.Architecture
    let architecture_source: String
    let parameters: Int?
    let parameter_breakdown: Registry.Breakdown?
    let bytes: Registry.Sizes?
    let hf_repo: String?
    let hf_files: [String]
    let mesh_tf_folders: [String]
    let status: String
    let status_reason: String?
    let upstream: String
    let checksums: [String: String]
    let notes: [String]

    enum CodingKeys: String, CodingKey {
        case name, base, tokens, architecture, architecture_source, parameters, parameter_breakdown, bytes, hf_repo
        case hf_files, mesh_tf_folders, status, status_reason, upstream, checksums, notes
    }

    /// Like the synthesized encoding, but absent values are written as `null` so every key is there.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(base, forKey: .base)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(architecture, forKey: .architecture)
        try container.encode(architecture_source, forKey: .architecture_source)
        try container.encode(parameters, forKey: .parameters)
        try container.encode(parameter_breakdown, forKey: .parameter_breakdown)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(hf_repo, forKey: .hf_repo)
        try container.encode(hf_files, forKey: .hf_files)
        try container.encode(mesh_tf_folders, forKey: .mesh_tf_folders)
        try container.encode(status, forKey: .status)
        try container.encode(status_reason, forKey: .status_reason)
        try container.encode(upstream, forKey: .upstream)
        try container.encode(checksums, forKey: .checksums)
        try container.encode(notes, forKey: .notes)
    }

    init(entry: Registry.Entry, computed: Int?) {
        name = entry.name
        base = entry.base
        tokens = entry.tokens
        architecture = entry.architecture
        architecture_source = entry.architectureSource
        parameters = computed ?? entry.parameters
        parameter_breakdown = entry.parameterBreakdown
        bytes = entry.bytes
        hf_repo = entry.hfRepo
        hf_files = entry.hfFiles
        mesh_tf_folders = entry.meshTfFolders
        status = entry.status.rawValue
        status_reason = entry.statusReason
        upstream = entry.upstream.rawValue
        checksums = entry.checksums
        notes = entry.notes
    }
}
