import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

/// An error about a configuration names the file zoo read, by path and by kind: an invalid
/// `operative_config.gin` was reported as "invalid config.json", and a bad `config.json` was
/// reported under the weights' path.
@Suite struct ErrorFileNamingTests {
    /// A copy of `fixture` (a directory) in `temporary`, with `file` replaced by `text`.
    private static func copy(
        _ fixture: URL, into temporary: TemporaryDirectory, replacing file: String, with text: String
    )
        throws -> URL
    {
        let directory = temporary.path(fixture.lastPathComponent)
        try FileManager.default.copyItem(at: fixture, to: directory)
        let target = directory.appendingPathComponent(file)
        try? FileManager.default.removeItem(at: target)
        try text.write(to: target, atomically: true, encoding: .utf8)
        return directory
    }

    /// The T5 reading's error, as the commands print it.
    private static func t5Error(opening directory: URL) throws -> String {
        guard case let .failure(error) = try AnalyzedCheckpoint(opening: directory).t5 else { return "no error" }
        return error.description
    }

    @Test(arguments: ["this is not gin\n", "d_model = 'wide'\n", "d_model = [\n512\n"])
    func anInvalidGinFileIsNamedAsSuch(gin: String) throws {
        let temporary = TemporaryDirectory()
        let directory = try Self.copy(
            Fixtures.url("tf/sample_meshtf"), into: temporary, replacing: "operative_config.gin", with: gin)
        let message = try Self.t5Error(opening: directory)
        let ginPath = directory.appendingPathComponent("operative_config.gin").path
        #expect(message.hasPrefix("\(ginPath): invalid operative_config.gin: "), "\(message)")
        #expect(!message.contains("config.json"), "\(message)")
    }

    @Test func anInvalidConfigJSONIsNamedByItsOwnPath() throws {
        let temporary = TemporaryDirectory()
        let original = try String(contentsOf: Fixtures.sample.appendingPathComponent("config.json"), encoding: .utf8)
        let directory = try Self.copy(
            Fixtures.sample, into: temporary, replacing: "config.json",
            with: original.replacingOccurrences(of: "\"d_model\": 64,", with: ""))
        let configPath = directory.appendingPathComponent("config.json").path
        #expect(try Self.t5Error(opening: directory) == "\(configPath): invalid config.json: d_model is missing")
    }

    @Test func aConfigJSONThatDisagreesIsNamedByItsOwnPath() throws {
        let temporary = TemporaryDirectory()
        let original = try String(contentsOf: Fixtures.sample.appendingPathComponent("config.json"), encoding: .utf8)
        let directory = try Self.copy(
            Fixtures.sample, into: temporary, replacing: "config.json",
            with: original.replacingOccurrences(of: "\"num_heads\": 4,", with: "\"num_heads\": 8,"))
        let configPath = directory.appendingPathComponent("config.json").path
        #expect(
            try Self.t5Error(opening: directory) == "\(configPath) says num_heads = 8 but the tensors say 4")
    }

    @Test func theCommandLineNamesTheGinFile() throws {
        let temporary = TemporaryDirectory()
        let directory = try Self.copy(
            Fixtures.url("tf/sample_meshtf"), into: temporary, replacing: "operative_config.gin",
            with: "this is not gin\n")
        let run = try ZooBinary.run(["inspect", directory.path])
        #expect(run.status != 0)
        #expect(run.stderr.contains("invalid operative_config.gin: line 1"), "\(run.stderr)")
        #expect(!run.stderr.contains("config.json"), "\(run.stderr)")
    }
}
