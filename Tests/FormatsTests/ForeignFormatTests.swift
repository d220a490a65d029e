import Foundation
import TestSupport
import Testing

@testable import Formats

/// Model files zoo knows only to refuse: named from their bytes, given directly or as the one
/// model file of a directory (fixtures written by TensorFlow, h5py and torch.jit.save).
@Suite struct ForeignFormatTests {
    static let files: [(String, ForeignFormat)] = [
        ("foreign/tf2_object/ckpt.index", .tensorflowObjectBased),
        ("foreign/keras_h5/tf_model.h5", .kerasHDF5),
        ("foreign/flax/flax_model.msgpack", .flaxMsgpack),
        ("foreign/torchscript.pt", .torchScript),
    ]

    @Test(arguments: files)
    func aFileGivenDirectlyIsNamed(_ relative: String, _ format: ForeignFormat) throws {
        let url = Fixtures.url(relative)
        #expect(throws: CheckpointError.foreignFormat(path: url.path, format: format)) { try Checkpoint.open(url) }
        #expect(try Checkpoint.isWeightFile(url))
    }

    @Test(arguments: files)
    func theBytesNotTheNameTellIt(_ relative: String, _ format: ForeignFormat) throws {
        // A TensorFlow index is found from its table magic; the others from their first bytes.
        let temporary = TemporaryDirectory()
        let renamed = temporary.path(format == .tensorflowObjectBased ? "renamed.index" : "weights.dat")
        try FileManager.default.copyItem(at: Fixtures.url(relative), to: renamed)
        if format == .tensorflowObjectBased {
            let data = Fixtures.url(relative).deletingLastPathComponent().appendingPathComponent(
                "ckpt.data-00000-of-00001")
            try FileManager.default.copyItem(at: data, to: temporary.path("renamed.data-00000-of-00001"))
        }
        #expect(throws: CheckpointError.foreignFormat(path: renamed.path, format: format)) {
            try Checkpoint.open(renamed)
        }
    }

    @Test(arguments: [
        ("foreign/tf2_object", "ckpt.index", ForeignFormat.tensorflowObjectBased),
        ("foreign/keras_h5", "tf_model.h5", .kerasHDF5),
        ("foreign/flax", "flax_model.msgpack", .flaxMsgpack),
    ])
    func aDirectoryHoldingOnlySuchAFileNamesIt(_ directory: String, _ file: String, _ format: ForeignFormat) throws {
        let url = Fixtures.url(directory)
        #expect(throws: CheckpointError.foreignFormat(path: url.appendingPathComponent(file).path, format: format)) {
            try Checkpoint.open(url)
        }
    }

    @Test func aDirectoryWithATorchScriptModelNamesIt() throws {
        let temporary = TemporaryDirectory()
        try FileManager.default.copyItem(at: Fixtures.url("foreign/torchscript.pt"), to: temporary.path("model.pt"))
        try Data("# tiny\n".utf8).write(to: temporary.path("README.md"))
        #expect(throws: CheckpointError.foreignFormat(path: temporary.path("model.pt").path, format: .torchScript)) {
            try Checkpoint.open(temporary.url)
        }
    }

    @Test func aTensorFlow2PrefixIsNamedToo() throws {
        let prefix = Fixtures.url("foreign/tf2_object/ckpt")
        #expect(
            throws: CheckpointError.foreignFormat(
                path: prefix.path + ".index", format: .tensorflowObjectBased)
        ) { try Checkpoint.open(prefix) }
    }

    @Test func theSentenceSaysWhatTheFileIsAndWhatZooReads() {
        for format in ForeignFormat.allCases {
            let text = CheckpointError.foreignFormat(path: "/m/x", format: format).description
            #expect(text.hasPrefix("/m/x: "))
            #expect(text.contains("which zoo does not read; "))
            #expect(!text.contains("\n"))
        }
        #expect(
            CheckpointError.foreignFormat(path: "p", format: .kerasHDF5).description.contains("from_tf=True"))
        #expect(
            CheckpointError.foreignFormat(path: "p", format: .flaxMsgpack).description.contains("from_flax=True"))
    }

    @Test func otherFilesAreNotTakenForForeignWeights() throws {
        #expect(Checkpoint.isStringKeyedMsgpackMap([0x81, 0xA6] + Array("params".utf8)))
        #expect(!Checkpoint.isStringKeyedMsgpackMap(Array("{\"params\": 1}".utf8)))
        #expect(!Checkpoint.isStringKeyedMsgpackMap([0x80]))
        #expect(!Checkpoint.isStringKeyedMsgpackMap([0x81, 0x01, 0x02]))
        #expect(Checkpoint.isTorchScript(["m/data.pkl", "m/code/__torch__.py", "m/constants.pkl"]))
        #expect(!Checkpoint.isTorchScript(["archive/data.pkl", "archive/data/0", "archive/version"]))
        let snapshot = Fixtures.url("companions/hub_snapshot")
        for name in ["README.md", "tokenizer.json", "operative_config.gin", "config.json"] {
            #expect(try !Checkpoint.isWeightFile(snapshot.appendingPathComponent(name)), "\(name)")
        }
        #expect(try Checkpoint.isWeightFile(snapshot.appendingPathComponent("model.safetensors")))
        #expect(try Checkpoint.isWeightFile(Fixtures.url("torch/legacy.bin")))
        #expect(try Checkpoint.isWeightFile(Fixtures.url("tf/sample_meshtf/model.ckpt-524288.index")))
        // A real torch.save zip is still read (TorchScript is named only when refused).
        #expect(try Checkpoint.open(Fixtures.url("torch/dtypes.bin")).format == .pytorchZip)
    }
}
