import Convert
import Formats
import Foundation
import Verify

/// The T5-Efficient family as `registry.json` records it: every checkpoint's architecture, exact
/// size, where it lives, whether zoo supports it, and what is known to be wrong about it.
public struct Registry: Sendable, Decodable {
    /// One model's architecture, with transformers' `config.json` field names.
    public struct Architecture: Sendable, Codable, Equatable {
        public let numLayers: Int
        public let numDecoderLayers: Int
        public let dModel: Int
        public let dFf: Int
        public let dKv: Int
        public let numHeads: Int
        public let vocabSize: Int
        /// An activation other than relu and gated-gelu makes the registry invalid (no silent default).
        public let feedForwardProj: T5Config.FeedForward
        public let tieWordEmbeddings: Bool
        public let relativeAttentionNumBuckets: Int

        enum CodingKeys: String, CodingKey {
            case numLayers = "num_layers", numDecoderLayers = "num_decoder_layers", dModel = "d_model", dFf = "d_ff"
            case dKv = "d_kv", numHeads = "num_heads", vocabSize = "vocab_size", feedForwardProj = "feed_forward_proj"
            case tieWordEmbeddings = "tie_word_embeddings", relativeAttentionNumBuckets =
                "relative_attention_num_buckets"
        }

        /// The architecture as a `T5Config` (transformers' defaults for what the registry omits).
        public var config: T5Config {
            T5Config(
                vocabSize: vocabSize, dModel: dModel, dKV: dKv, dFF: dFf, numHeads: numHeads, numLayers: numLayers,
                numDecoderLayers: numDecoderLayers,
                feedForward: feedForwardProj,
                tieWordEmbeddings: tieWordEmbeddings, relativeAttentionNumBuckets: relativeAttentionNumBuckets)
        }
    }

    /// Parameters per part of the model.
    public struct Breakdown: Sendable, Codable, Equatable {
        public let embedding: Int
        public let encoder: Int
        public let decoder: Int
    }

    /// Weight bytes per dtype.
    public struct Sizes: Sendable, Codable, Equatable {
        public let fp32: Int
        public let fp16: Int
        public let bf16: Int
    }

    /// Whether zoo converts a checkpoint (`statusReason` says why not).
    public enum Status: String, Sendable, Codable {
        case supported, unsupported
    }

    /// What the original Mesh-TF bucket folder of a checkpoint holds.
    public enum Upstream: String, Sendable, Codable {
        case complete, incomplete, missing
    }

    /// One checkpoint.
    public struct Entry: Sendable, Decodable {
        public let name: String
        public let base: String
        public let tokens: [String]
        public let architecture: Architecture
        public let architectureSource: String
        /// Unique parameters, tied embeddings once; `nil` for the shared-parameter variants.
        public let parameters: Int?
        public let parameterBreakdown: Breakdown?
        public let bytes: Sizes?
        public let hfRepo: String?
        public let hfFiles: [String]
        public let meshTfFolders: [String]
        public let status: Status
        public let statusReason: String?
        public let upstream: Upstream
        public let checksums: [String: String]
        public let notes: [String]

        public var isSupported: Bool { status == .supported }

        enum CodingKeys: String, CodingKey {
            case name, base, tokens, architecture, architectureSource = "architecture_source", parameters
            case parameterBreakdown = "parameter_breakdown", bytes, hfRepo = "hf_repo", hfFiles = "hf_files"
            case meshTfFolders = "mesh_tf_folders", status, statusReason = "status_reason", upstream, checksums, notes
        }
    }

    public let schemaVersion: Int
    public let family: String
    public let bases: [String: Architecture]
    public let checkpoints: [Entry]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", family, bases, checkpoints
    }

    /// The registry bundled with zoo.
    ///
    /// - Throws: `ModelZooError.invalidRegistry` if the bundled file is missing or malformed.
    public static func bundled() throws -> Registry {
        guard let url = Bundle.module.url(forResource: "registry", withExtension: "json") else {
            throw ModelZooError.invalidRegistry(reason: "registry.json is not bundled with this build")
        }
        return try load(url)
    }

    /// Reads a registry file.
    public static func load(_ url: URL) throws -> Registry {
        let decoder = JSONDecoder()
        do {
            let registry = try decoder.decode(Registry.self, from: Data(contentsOf: url))
            guard registry.schemaVersion == 1 else {
                throw ModelZooError.invalidRegistry(reason: "schema version \(registry.schemaVersion) is not 1")
            }
            return registry
        } catch let error as ModelZooError {
            throw error
        } catch {
            throw ModelZooError.invalidRegistry(reason: "\(url.path): \(error)")
        }
    }

    /// The entry named `name`.
    public func entry(named name: String) -> Entry? {
        checkpoints.first { $0.name == name }
    }

    /// The entry named `name`, or an error that suggests the closest names.
    public func requireEntry(_ name: String) throws(ModelZooError) -> Entry {
        if let entry = entry(named: name) { return entry }
        throw .unknownCheckpoint(name: name, closest: closest(to: name))
    }

    /// Up to `count` registry names nearest to `name` by edit distance.
    public func closest(to name: String, count: Int = 3) -> [String] {
        let target = Array(name.utf8)
        let scored: [(name: String, distance: Int)] = checkpoints.map {
            (name: $0.name, distance: Self.editDistance(Array($0.name.utf8), target))
        }
        let ranked = scored.sorted { lhs, rhs in
            lhs.distance != rhs.distance ? lhs.distance < rhs.distance : lhs.name < rhs.name
        }
        return ranked.prefix(count).map(\.name)
    }

    /// The supported entries whose architecture is exactly `config`'s (untied or gated configs
    /// match nothing). The shared-parameter variants are left out: they list their base's sizes,
    /// but their weights do not have T5's standard layout, so a standard checkpoint is never one.
    public func entries(matching config: T5Config) -> [Entry] {
        checkpoints.filter { $0.isSupported && Self.sameArchitecture($0.architecture.config, config) }
    }

    private static func sameArchitecture(_ a: T5Config, _ b: T5Config) -> Bool {
        let sizes = [a.numLayers, a.numDecoderLayers, a.dModel, a.dFF, a.dKV, a.numHeads, a.vocabSize]
        let others = [b.numLayers, b.numDecoderLayers, b.dModel, b.dFF, b.dKV, b.numHeads, b.vocabSize]
        return sizes == others && a.feedForward == b.feedForward && a.tieWordEmbeddings == b.tieWordEmbeddings
            && a.relativeAttentionNumBuckets == b.relativeAttentionNumBuckets
    }

    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
