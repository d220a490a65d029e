// swift-format-ignore-file: AlwaysUseLowerCamelCase

// (the JSON types here spell their properties as the keys of the JSON they print)
import ArgumentParser
import Convert
import Foundation
import ModelZoo
import Verify

/// `zoo pull NAME --mirror URL|DIR`: download a registry checkpoint, verified, into the cache.
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a T5-Efficient checkpoint from a mirror, resumably, and verify it against the registry.",
        discussion: """
            The mirror is an HTTP(S) server laid out like the Hugging Face hub \
            (<url>/<owner>/<name>/resolve/main/<file>) or a directory of hub clones (<dir>/<owner>/<name>/<file>). \
            Files are downloaded into $ZOO_HOME/partial/<name> (an interrupted pull resumes there with HTTP Range), \
            checked (loads as T5, architecture and parameter count equal the registry's, published checksums), \
            then renamed into $ZOO_HOME/models/<name> or --to. ZOO_HOME defaults to ~/.cache/zoo.
            """)

    @Argument(help: "A T5-Efficient name, e.g. t5-efficient-tiny.")
    var name: String

    @Option(help: "An HTTP(S) mirror URL or a local directory laid out like the hub.")
    var mirror: String

    @Option(help: "Put the checkpoint here instead of the cache.")
    var to: String?

    @Option(help: "Convert it on the way in (safetensors or pytorch).")
    var format: OutputFormat?

    @Flag(help: "Download again even if a verified copy is already there.")
    var force = false

    @Flag(help: "Keep the weights zstd-compressed (*.zst); every zoo command reads them back.")
    var compress = false

    @OptionGroup var output: JSONOutput
    var json: Bool { output.json }

    func run() throws {
        let registry = try Registry.bundled()
        let bar = ProgressBar(label: "pulling \(name)")
        let report = try Puller.pull(
            name, from: Mirror(mirror), into: to.map { URL(fileURLWithPath: $0) }, format: format, force: force,
            compress: compress, registry: registry
        ) { _, done, total in bar.update(done: done, total: total ?? max(done, 1)) }
        bar.finish()
        if json {
            try printJSON(PullJSON(report))
            return
        }
        if report.alreadyPresent {
            print("\(name): already in \(report.destination.path), SHA256SUMS verified")
            return
        }
        print("\(name) -> \(report.destination.path)")
        for file in report.files {
            print(
                "  \(file.name): \(ByteSize.describe(file.bytes))"
                    + (file.resumedFrom > 0 ? " (resumed from byte \(file.resumedFrom))" : ""))
        }
        for file in report.absent { print("  \(file): not on the mirror (optional)") }
        print(
            "  verified: T5 architecture and \(grouped(report.parameters)) parameters match the registry; SHA256SUMS written"
        )
        if let conversion = report.conversion {
            print("  converted to \(conversion.plan.format.rawValue), checked against the download:")
            conversion.parity.map(ParityJSON.init)?.lines.forEach { print("  " + $0) }
        }
    }
}

/// `zoo pull --json` output.
struct PullJSON: Encodable {
    struct File: Encodable {
        let name: String
        let bytes: Int
        let resumed_from: Int
    }

    let name: String
    let destination: String
    let already_present: Bool
    let files: [File]
    let absent: [String]
    let parameters: Int
    /// The parity check of a `--format` conversion against the downloaded checkpoint.
    let parity: ParityJSON?

    init(_ report: Puller.Report) {
        parity = report.conversion?.parity.map(ParityJSON.init)
        name = report.name
        destination = report.destination.path
        already_present = report.alreadyPresent
        files = report.files.map { File(name: $0.name, bytes: $0.bytes, resumed_from: $0.resumedFrom) }
        absent = report.absent
        parameters = report.parameters
    }
}
