import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

/// A source that changes while it is converted (appended to, touched, replaced, removed) fails
/// the conversion before anything reaches the destination, whatever else the caller checks.
@Suite struct SourceChangeTests {
    enum Change: String, CaseIterable {
        case appended, touched, replaced, removed, configEdited
    }

    @Test(arguments: Change.allCases)
    func aSourceChangedDuringTheConversionIsAnError(_ change: Change) throws {
        let temporary = TemporaryDirectory()
        let source = temporary.path("source")
        try FileManager.default.copyItem(at: Fixtures.sample, to: source)
        let weights = source.appendingPathComponent("model.safetensors")
        let destination = temporary.path("out")
        let plan = try ConversionPlan(.init(source: source, destination: destination, dtype: .bf16))
        var changed = false
        #expect {
            _ = try Converter.run(plan) { _, _ in
                guard !changed else { return }
                changed = true
                try? Self.apply(change, to: weights, config: source.appendingPathComponent("config.json"))
            }
        } throws: { error in
            guard case let ConvertError.sourceChanged(path, what) = error else { return false }
            let expected = change == .configEdited ? "config.json" : "model.safetensors"
            return path.hasSuffix(expected) && String(describing: error).contains("nothing was written")
                && !what.isEmpty
        }
        #expect(changed)
        #expect(temporary.contents() == ["source"], "nothing at the destination, no staging left")
    }

    @Test func anUnchangedSourceConverts() throws {
        let temporary = TemporaryDirectory()
        let plan = try ConversionPlan(.init(source: Fixtures.sample, destination: temporary.path("out")))
        #expect(plan.source.sourceChange() == nil)
        _ = try Converter.run(plan)
        #expect(temporary.contents() == ["out"])
    }

    private static func apply(_ change: Change, to weights: URL, config: URL) throws {
        switch change {
        case .appended:
            let handle = try FileHandle(forWritingTo: weights)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data([0]))
            try handle.close()
        case .touched:
            // Same size, same inode: only the modification time says the bytes may differ.
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: weights.path)
        case .replaced:
            let copy = weights.deletingLastPathComponent().appendingPathComponent("copy")
            try FileManager.default.copyItem(at: weights, to: copy)
            _ = try FileManager.default.replaceItemAt(weights, withItemAt: copy)
        case .removed:
            try FileManager.default.removeItem(at: weights)
        case .configEdited:
            let handle = try FileHandle(forWritingTo: config)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(" ".utf8))
            try handle.close()
        }
    }
}
