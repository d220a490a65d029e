import Foundation
import Testing

@testable import Formats

@Suite struct PickleMachineTests {
    /// Runs the pickle and reads its value with `read` before the machine empties its containers.
    private func run<T>(_ bytes: [UInt8], _ read: (PickleValue) throws(TorchError) -> T) throws(TorchError) -> T {
        var result: Result<T, TorchError>?
        bytes.withUnsafeBytes { buffer in
            var machine = PickleMachine(bytes: buffer, path: "test", member: "data.pkl")
            result = Result { () throws(TorchError) in try read(try machine.run()) }
            machine.tearDown()
        }
        guard let result else { fatalError("withUnsafeBytes did not run its closure") }
        return try result.get()
    }

    private func run(_ bytes: [UInt8]) throws(TorchError) -> PickleValue {
        try run(bytes) { $0 }
    }

    private func stateDict(_ bytes: [UInt8]) throws(TorchError) -> TorchStateDict {
        try run(bytes) { value throws(TorchError) in try TorchStateDict(value, path: "test") }
    }

    @Test func decodesIntegersOfEveryWidth() throws {
        let cases: [([UInt8], Int)] = [
            ([0x4B, 0xFF], 255), ([0x4D, 0x34, 0x12], 0x1234), ([0x4A, 0xFE, 0xFF, 0xFF, 0xFF], -2),
            ([0x8A, 0x02, 0x00, 0xFF], -256), ([0x8A, 0x00], 0),
            ([0x8A, 0x08] + [UInt8](repeating: 0xFF, count: 7) + [0x7F], Int.max),
        ]
        for (opcodes, expected) in cases {
            guard case let .int(value) = try run([0x80, 0x02] + opcodes + [0x2E]) else {
                Issue.record("\(opcodes) did not give an int")
                continue
            }
            #expect(value == expected)
        }
    }

    @Test func refusesEveryGlobalOutsideTheAllowlist() {
        for (module, name) in [
            ("os", "system"), ("builtins", "eval"), ("torch", "load"), ("torch._utils", "_rebuild_qtensor"),
        ] {
            let bytes = [0x80, 0x02, 0x63] + Array("\(module)\n\(name)\n".utf8) + [0x2E]
            #expect(
                throws: TorchError.forbiddenGlobal(
                    path: "test", member: "data.pkl", global: "\(module).\(name)", offset: 2)
            ) {
                try run(bytes)
            }
        }
    }

    @Test func acceptsTheGlobalsStateDictsUse() throws {
        let bytes: [UInt8] = [0x80, 0x02, 0x63] + Array("collections\nOrderedDict\n".utf8) + [0x29, 0x52, 0x2E]
        guard case .dict = try run(bytes) else {
            Issue.record("OrderedDict() did not build a dict")
            return
        }
    }

    @Test func aSelfContainingListIsRefusedWhenFlattened() throws {
        // {"a": L} where L = [L]: EMPTY_DICT, "a", EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, SETITEM, STOP.
        let bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x8C, 0x01, 0x61, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x73, 0x2E]
        #expect(throws: TorchError.notAStateDict(path: "test", reason: "'a.0' contains itself")) {
            try stateDict(bytes)
        }
    }

    @Test func underflowAndMissingStopAreErrors() {
        #expect(throws: TorchError.stackUnderflow(path: "test", member: "data.pkl", offset: 2)) {
            try run([0x80, 0x02, 0x61, 0x2E])
        }
        #expect(throws: TorchError.truncatedPickle(path: "test", member: "data.pkl", offset: 3)) {
            try run([0x80, 0x02, 0x4E])
        }
        #expect(throws: TorchError.self) { try run([0x80, 0x02, 0x4E, 0x4E, 0x2E]) }  // two values at STOP
    }

    @Test func aMarkFencesTheStack() {
        // MARK then APPEND: the list below the mark may not be used.
        #expect(throws: TorchError.stackUnderflow(path: "test", member: "data.pkl", offset: 4)) {
            try run([0x80, 0x02, 0x5D, 0x28, 0x61, 0x2E])
        }
    }

    @Test func theWritersPicklesReadBack() throws {
        let entries = [
            PickleWriter.Entry(name: "a", storageKey: "0", dtype: .bf16, storageElementCount: 6, shape: [2, 3]),
            PickleWriter.Entry(name: "b", storageKey: "0", dtype: .bf16, storageElementCount: 6, shape: [2, 3]),
            PickleWriter.Entry(
                name: "big", storageKey: "1", dtype: .f32, storageElementCount: 3_000_000_000, shape: [3_000_000_000]),
        ]
        let stateDict = try stateDict(PickleWriter.stateDict(entries))
        #expect(stateDict.entries.map(\.name) == ["a", "b", "big"])
        #expect(stateDict.entries[0].tensor.strides == [3, 1])
        #expect(stateDict.entries[1].tensor.storage.key == "0")
        #expect(stateDict.entries[2].tensor.storage.elementCount == 3_000_000_000)
    }
}
