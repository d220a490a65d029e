import Convert
import Formats
import Foundation
import Verify

/// Downloads a registry checkpoint from a mirror, verifies it against the registry, and puts it
/// in place only once it checks out.
public enum Puller {
    /// What a pull did.
    public struct Report: Sendable {
        public let name: String
        public let destination: URL
        /// Each file fetched: its name, its size, and the offset an earlier interrupted pull left.
        public let files: [(name: String, bytes: Int, resumedFrom: Int)]
        /// Optional files the mirror does not have.
        public let absent: [String]
        public let parameters: Int
        /// Whether the checkpoint was already complete at the destination (nothing downloaded).
        public let alreadyPresent: Bool
        /// The conversion into the requested format, with its parity check (`pull --format`).
        public let conversion: VerifiedConversion.Report?
    }

    /// Files a pull does without when the mirror lacks them (the Mesh-TF training config).
    static let optionalFiles: Set<String> = ["operative_config.gin"]

    /// Pulls `name` from `mirror` into `destination` (the cache by default).
    ///
    /// - Parameters:
    ///   - format: convert to this format on the way in (`nil`: keep the mirror's files).
    ///   - progress: (file, bytes so far, total if known), for a progress bar.
    /// - Throws: `ModelZooError.unknownCheckpoint`, `VerifyError` for unsupported checkpoints,
    ///   files missing on the mirror, failed transfers (run again to resume) and checkpoints that
    ///   do not match the registry (those are deleted: a corrupt file cannot be resumed).
    public static func pull(
        _ name: String, from mirror: Mirror, into destination: URL? = nil, format: OutputFormat? = nil,
        force: Bool = false, compress: Bool = false, cache: ModelCache = .standard, registry: Registry,
        progress: @escaping @Sendable (String, Int, Int?) -> Void = { _, _, _ in }
    ) throws -> Report {
        let entry = try registry.requireEntry(name)
        guard entry.isSupported else {
            throw ModelZooError.unsupportedCheckpoint(name: name, reason: entry.statusReason ?? "not supported")
        }
        guard let repo = entry.hfRepo, entry.upstream != .missing else {
            throw ModelZooError.unsupportedCheckpoint(
                name: name, reason: "it was never published (upstream: \(entry.upstream.rawValue))")
        }
        let target = destination ?? cache.model(name)
        let manager = FileManager.default
        if !force, manager.fileExists(atPath: target.appendingPathComponent(ChecksumManifest.fileName).path),
            try ChecksumManifest.check(target.appendingPathComponent(ChecksumManifest.fileName)).allSatisfy(\.passed)
        {
            return Report(
                name: name, destination: target, files: [], absent: [], parameters: entry.parameters ?? 0,
                alreadyPresent: true, conversion: nil)
        }

        let partial = cache.partial(name)
        try manager.createDirectory(at: partial, withIntermediateDirectories: true)
        var files: [(String, Int, Int)] = []
        var absent: [String] = []
        for file in entry.hfFiles {
            let source = mirror.location(of: file, in: repo)
            let outcome = try Download.fetch(source, into: partial.appendingPathComponent(file + ".part")) {
                done, total in
                progress(file, done, total)
            }
            switch outcome {
            case let .downloaded(bytes, resumedFrom):
                files.append((file, bytes, resumedFrom))
                try? manager.removeItem(at: partial.appendingPathComponent(file))
                try manager.moveItem(
                    at: partial.appendingPathComponent(file + ".part"), to: partial.appendingPathComponent(file))
            case .missing:
                try? manager.removeItem(at: partial.appendingPathComponent(file + ".part"))
                guard optionalFiles.contains(file) else {
                    throw ModelZooError.missingOnMirror(url: source.isFileURL ? source.path : source.absoluteString)
                }
                absent.append(file)
            }
        }

        let parameters: Int
        do {
            parameters = try verify(partial, against: entry, registry: registry)
        } catch {
            // A file that fails verification cannot be resumed into a good one: start over next time.
            try? manager.removeItem(at: partial)
            throw error
        }

        var conversion: VerifiedConversion.Report?
        if let format {
            // Verified like every conversion: a converted model that does not compute what the
            // downloaded one computes is never installed.
            conversion = try VerifiedConversion.run(
                .init(source: partial, destination: target, force: true, format: format, compress: compress))
            try? manager.removeItem(at: partial)
        } else {
            if compress {
                // Keep the weights zstd-compressed in the cache; every command reads `*.zst` back.
                for file in files.map(\.0) where !file.hasSuffix(".json") && !file.hasSuffix(".gin") {
                    let plain = partial.appendingPathComponent(file)
                    try Zstd.compress(plain, to: partial.appendingPathComponent(file + Zstd.suffix))
                    try manager.removeItem(at: plain)
                }
            }
            try ChecksumManifest.write(for: partial)
            try install(partial, at: target)
        }
        return Report(
            name: name, destination: target, files: files.map { (name: $0.0, bytes: $0.1, resumedFrom: $0.2) },
            absent: absent, parameters: parameters, alreadyPresent: false, conversion: conversion)
    }

    /// Moves the verified download into place as every output is placed (`StagedOutput`): next to
    /// the target under a staging name, then renamed over it, so an interrupted install leaves the
    /// old model or the new one, never a mix, and a signal removes what was staged.
    private static func install(_ directory: URL, at target: URL) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let staged = try StagedOutput(destination: target, isDirectory: true, force: true)
        do {
            // The staging directory is created empty; the download takes its place.
            try manager.removeItem(at: staged.staging)
            try manager.moveItem(at: directory, to: staged.staging)
            try staged.commit()
        } catch {
            staged.discard()
            throw error
        }
    }

    /// The downloaded checkpoint must load as T5 with the registry's architecture and parameter
    /// count, and match any checksum the registry records.
    private static func verify(_ directory: URL, against entry: Registry.Entry, registry: Registry) throws -> Int {
        for (file, digest) in entry.checksums {
            let actual = try FileDigest.sha256(path: directory.appendingPathComponent(file).path)
            guard actual == digest else {
                throw ModelZooError.pulledCheckpointInvalid(
                    name: entry.name, reason: "\(file) has SHA-256 \(actual), the registry \(digest)")
            }
        }
        let analyzed = try AnalyzedCheckpoint(opening: directory, checksums: .verifyOnOpen)
        let model: T5Model
        do {
            model = try analyzed.t5.get()
        } catch {
            throw ModelZooError.pulledCheckpointInvalid(name: entry.name, reason: "\(error)")
        }
        guard registry.entries(matching: model.config).contains(where: { $0.name == entry.name }) else {
            throw ModelZooError.pulledCheckpointInvalid(name: entry.name, reason: "its architecture is \(model.config)")
        }
        if let expected = entry.parameters, model.parameterCount != expected {
            throw ModelZooError.pulledCheckpointInvalid(
                name: entry.name, reason: "\(model.parameterCount) parameters, the registry \(expected)")
        }
        return model.parameterCount
    }
}
