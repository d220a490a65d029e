import Foundation
import TestSupport
import Testing

@testable import Formats

/// What a writing command leaves behind when it is stopped, when the disk fills, or when its
/// input is not a regular file, and what verify and checksum say about missing or stale manifests.
@Suite struct HardeningCLITests {
    /// A 1 GiB fp32 safetensors file (sparse: it costs no disk until read), big enough that a
    /// conversion is still writing when the test signals it.
    static func writeLargeSource(at url: URL) throws {
        let elements = 1 << 28
        var header = Array(
            #"{"weight":{"dtype":"F32","shape":[\#(elements)],"data_offsets":[0,\#(elements * 4)]}}"#.utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var length = UInt64(header.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(contentsOf: header)
        try file.write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(file.count + elements * 4))
        try handle.close()
    }

    static func stagedEntries(in directory: TemporaryDirectory) -> [String] {
        directory.contents().filter { $0.contains(".zoo-partial-") }
    }

    @Test(arguments: [
        (SIGINT, "out.safetensors"), (SIGTERM, "out.safetensors"), (SIGHUP, "out.safetensors"),
        (SIGTERM, "sharded/"),
    ])
    func aSignalDuringAConversionRemovesTheStagedOutputAndEndsByThatSignal(_ signal: Int32, _ output: String)
        throws
    {
        let temporary = TemporaryDirectory()
        try Self.writeLargeSource(at: temporary.path("big.safetensors"))
        var arguments = [
            "convert", temporary.path("big.safetensors").path, temporary.path(output).path, "--dtype", "bf16",
        ]
        if output.hasSuffix("/") { arguments += ["--shard-size", "64MB"] }
        let zoo = try RunningZoo(arguments)
        // Signal once the staged output exists and holds bytes, so the command is mid-write.
        let writing = zoo.waitUntil {
            Self.stagedEntries(in: temporary).contains { entry in
                let url = temporary.path(entry)
                let size = (try? url.resourceValues(forKeys: [.fileSizeKey, .isDirectoryKey])) ?? nil
                return size?.isDirectory == true || (size?.fileSize ?? 0) > 0
            }
        }
        #expect(writing, "the conversion ended before it was seen writing")
        kill(zoo.process.processIdentifier, signal)
        let stopped = zoo.waitUntil(timeout: 60) { !zoo.process.isRunning }
        if !stopped { kill(zoo.process.processIdentifier, SIGKILL) }
        #expect(stopped, "the signal did not end the conversion")
        let ended = try zoo.wait()

        // Killed by the signal itself (the shell shows 128 + N), after removing what it staged.
        #expect(ended.reason == .uncaughtSignal, "\(ended.stderr)")
        #expect(ended.status == signal)
        #expect(temporary.contents() == ["big.safetensors"], "\(temporary.contents())")
    }

    /// Hashing reads a file through its mapping; truncating the file meanwhile makes the next
    /// page touched past its new end raise SIGBUS. That is one error naming the file and the byte
    /// offset, exit status 1, and no manifest left behind, not a crash.
    /// A conversion that fails after planning (here: the destination's parent is a regular file)
    /// while the source's forward pass runs in the background used to exit with that pass still
    /// inside OpenBLAS, whose teardown had already run: SIGSEGV in a few runs out of a hundred.
    /// Every run must end with the error and status 1.
    @Test func aConversionThatFailsAfterPlanningNeverCrashesOnExit() throws {
        let directory = TemporaryDirectory()
        let model = directory.path("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try SyntheticT5.write(into: model)
        let blocker = directory.path("file")
        try Data().write(to: blocker)
        var statuses: [Int32: Int] = [:]
        for _ in 0..<50 {
            let run = try ZooBinary.run(["convert", model.path, blocker.appendingPathComponent("out").path])
            statuses[run.status, default: 0] += 1
            #expect(run.stderr.contains(blocker.path), "\(run.stderr)")
        }
        #expect(statuses == [1: 50])
    }

    @Test func aFileTruncatedWhileItIsReadIsAnErrorNotACrash() throws {
        let temporary = TemporaryDirectory()
        let model = temporary.path("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let weights = model.appendingPathComponent("weights.bin")
        // 8 GiB of holes: nothing on disk, and seconds of hashing, long enough to truncate midway.
        _ = FileManager.default.createFile(atPath: weights.path, contents: nil)
        let handle = try FileHandle(forWritingTo: weights)
        try handle.truncate(atOffset: 8 << 30)
        try handle.close()

        let zoo = try RunningZoo(["checksum", model.path])
        let mapped = zoo.waitUntil {
            ((try? String(contentsOfFile: "/proc/\(zoo.process.processIdentifier)/maps", encoding: .utf8)) ?? "")
                .contains(weights.path)
        }
        #expect(mapped, "zoo ended before it mapped the file")
        usleep(100_000)
        #expect(truncate(weights.path, 4096) == 0)
        let stopped = zoo.waitUntil(timeout: 60) { !zoo.process.isRunning }
        if !stopped { kill(zoo.process.processIdentifier, SIGKILL) }
        let ended = try zoo.wait()

        #expect(ended.reason == .exit, "ended by signal \(ended.status)")
        #expect(ended.status == 1)
        #expect(ended.stderr.split(separator: "\n").count == 1, "\(ended.stderr)")
        #expect(
            ended.stderr.contains("\(weights.path): the file was truncated while zoo was reading it"), "\(ended.stderr)"
        )
        #expect(ended.stderr.contains("byte offset "), "\(ended.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: model.path)
        #expect(left == ["weights.bin"], "\(left)")
    }

    @Test func aStalePartialOfAProcessThatIsGoneIsRemovedAndALiveOnesIsKept() throws {
        let temporary = TemporaryDirectory()
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let gone = ".out.safetensors.zoo-partial-\(ended.processIdentifier)"
        let goneSidecar = ".out.safetensors.sha256.zoo-partial-\(ended.processIdentifier)"
        let live = ".out.safetensors.zoo-partial-\(getpid())"
        for name in [gone, goneSidecar, live] {
            try Data("left over".utf8).write(to: temporary.path(name))
        }
        let run = try ZooBinary.run([
            "convert", Fixtures.sample.appendingPathComponent("model.safetensors").path,
            temporary.path("out.safetensors").path, "--no-verify",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(temporary.contents() == [live, "out.safetensors", "out.safetensors.sha256"].sorted())
    }

    /// Whether this process may mount a small tmpfs (root on Linux), to fill a disk for real.
    static let canMountTmpfs: Bool = {
        let probe = TemporaryDirectory()
        guard mount("tmpfs", probe.url.path, "tmpfs", 0, "size=64k") == 0 else { return false }
        umount(probe.url.path)
        return true
    }()

    /// Runs `body` with a tmpfs of `bytes` mounted on a fresh directory.
    static func withFullDisk(bytes: Int, _ body: (URL) throws -> Void) throws {
        let mountPoint = TemporaryDirectory()
        try #require(mount("tmpfs", mountPoint.url.path, "tmpfs", 0, "size=\(bytes)") == 0)
        defer { umount2(mountPoint.url.path, Int32(MNT_DETACH)) }
        try body(mountPoint.url)
    }

    static let sampleWeights = Fixtures.sample.appendingPathComponent("model.safetensors").path

    @Test(.enabled(if: canMountTmpfs, "needs root to mount a small tmpfs"), arguments: [false, true])
    func aFullDiskFailsInOneSentenceAndLeavesNothing(_ onlyTheSidecarDoesNotFit: Bool) throws {
        // The converted file's size, measured on a roomy disk; the small disk holds either half of
        // it, or exactly it (whole pages), so that only the `.sha256` sidecar is refused.
        let roomy = TemporaryDirectory()
        let measured = try ZooBinary.run([
            "convert", Self.sampleWeights, roomy.path("m.safetensors").path, "--no-verify",
        ])
        try #require(measured.status == 0)
        let size = try #require(try roomy.path("m.safetensors").resourceValues(forKeys: [.fileSizeKey]).fileSize)
        let pages = (size + 4095) / 4096
        let bytes = onlyTheSidecarDoesNotFit ? pages * 4096 : (pages / 2) * 4096

        try Self.withFullDisk(bytes: bytes) { disk in
            let run = try ZooBinary.run([
                "convert", Self.sampleWeights, disk.appendingPathComponent("out.safetensors").path, "--no-verify",
            ])
            #expect(run.status == 1)
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(run.stderr.contains("No space left on device"), "\(run.stderr)")
            #expect(!run.stderr.contains("NSCocoaErrorDomain"), "\(run.stderr)")
            let left = try FileManager.default.contentsOfDirectory(atPath: disk.path)
            #expect(left.isEmpty, "\(left)")
        }
    }

    @Test(.enabled(if: canMountTmpfs, "needs root to mount a small tmpfs"))
    func aFullDiskWhileWritingSHA256SUMSLeavesNoDirectory() throws {
        let roomy = TemporaryDirectory()
        let measured = try ZooBinary.run(["convert", Fixtures.sample.path, roomy.path("m").path, "--no-verify"])
        try #require(measured.status == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: roomy.path("m").path)
        // Room for every file but the manifest (each file takes whole pages).
        let pages = try names.filter { $0 != "SHA256SUMS" }.reduce(0) { total, name in
            let size = try roomy.path("m").appendingPathComponent(name).resourceValues(forKeys: [.fileSizeKey]).fileSize
            return total + ((size ?? 0) + 4095) / 4096
        }
        try Self.withFullDisk(bytes: pages * 4096) { disk in
            let run = try ZooBinary.run([
                "convert", Fixtures.sample.path, disk.appendingPathComponent("out").path, "--no-verify",
            ])
            #expect(run.status == 1)
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(run.stderr.contains("No space left on device"), "\(run.stderr)")
            let left = try FileManager.default.contentsOfDirectory(atPath: disk.path)
            #expect(left.isEmpty, "\(left)")
        }
    }

    @Test func aFIFOIsRefusedAtOnceNotOpened() throws {
        let temporary = TemporaryDirectory()
        let fifo = temporary.path("model.safetensors")
        try #require(mkfifo(fifo.path, 0o600) == 0)
        // Opening a FIFO for reading blocks until a writer comes: the refusal must come first.
        for command in [["inspect", fifo.path], ["convert", fifo.path, temporary.path("out.safetensors").path]] {
            let zoo = try RunningZoo(command)
            let ended = zoo.waitUntil(timeout: 20) { !zoo.process.isRunning }
            if !ended { zoo.process.terminate() }
            #expect(ended, "\(command[0]) blocked on the FIFO")
            let run = try zoo.wait()
            #expect(run.status == 1)
            #expect(run.stderr.hasPrefix("Error: \(fifo.path): "), "\(run.stderr)")
            #expect(run.stderr.contains("a FIFO"), "\(run.stderr)")
        }
        #expect(temporary.contents() == ["model.safetensors"])
    }

    @Test func aSymlinkLoopIsNamedAsOne() throws {
        let temporary = TemporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: temporary.path("a").path, withDestinationPath: "b")
        try FileManager.default.createSymbolicLink(atPath: temporary.path("b").path, withDestinationPath: "a")
        let run = try ZooBinary.run(["inspect", temporary.path("a").path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("symbolic link loop"), "\(run.stderr)")
        #expect(!run.stderr.contains("No such file"), "\(run.stderr)")
    }

    /// The sample model copied to a temporary directory, with the manifest zoo writes.
    static func sampleWithManifest(in temporary: TemporaryDirectory) throws -> URL {
        let model = temporary.path("model")
        try FileManager.default.copyItem(at: Fixtures.sample, to: model)
        let written = try ZooBinary.run(["checksum", model.path])
        try #require(written.status == 0, "\(written.stderr)")
        return model
    }

    @Test(arguments: [("empty", Data()), ("not UTF-8", Data([0xFF, 0xFE, 0x00, 0x41]))])
    func verifyFailsOnAManifestThatListsNothing(_ what: String, _ contents: Data) throws {
        let temporary = TemporaryDirectory()
        let model = try Self.sampleWithManifest(in: temporary)
        try contents.write(to: model.appendingPathComponent("SHA256SUMS"))
        let run = try ZooBinary.run(["verify", model.path])
        #expect(run.status != 0, "\(what): \(run.stdout)")
        #expect(!run.stdout.contains("passed"), "\(what): \(run.stdout)")
        #expect(run.stderr.contains("SHA256SUMS"), "\(what): \(run.stderr)")
    }

    @Test func verifyWithoutAManifestSaysNoChecksumWasChecked() throws {
        let temporary = TemporaryDirectory()
        try FileManager.default.copyItem(at: Fixtures.sample, to: temporary.path("model"))
        let run = try ZooBinary.run(["verify", temporary.path("model").path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("no SHA256SUMS or .sha256 manifest: file SHA-256s not checked"), "\(run.stdout)")
    }

    @Test func checksumRefusesToHideAChangeUnlessForced() throws {
        let temporary = TemporaryDirectory()
        let model = try Self.sampleWithManifest(in: temporary)
        let changed = model.appendingPathComponent("generation_config.json")
        let handle = try FileHandle(forWritingTo: changed)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()
        let manifestBefore = try Data(contentsOf: model.appendingPathComponent("SHA256SUMS"))

        let refused = try ZooBinary.run(["checksum", model.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("generation_config.json"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(try Data(contentsOf: model.appendingPathComponent("SHA256SUMS")) == manifestBefore)
        #expect(try ZooBinary.run(["verify", model.path]).status != 0)

        let forced = try ZooBinary.run(["checksum", model.path, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try ZooBinary.run(["verify", model.path]).status == 0)
    }

    @Test func checksumWillNotRecordBytesThatFailTheirStoredCRC() throws {
        let temporary = TemporaryDirectory()
        let model = temporary.path("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: false)
        let weights = model.appendingPathComponent("pytorch_model.bin")
        let converted = try ZooBinary.run([
            "convert", Fixtures.sample.path, model.path + "/", "--to", "pytorch", "--force",
        ])
        try #require(converted.status == 0, "\(converted.stderr)")
        try FileManager.default.removeItem(at: model.appendingPathComponent("SHA256SUMS"))
        // Flip one byte in the middle of the archive: inside a tensor's stored zip member.
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: weights)

        let run = try ZooBinary.run(["checksum", model.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("CRC-32"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model.appendingPathComponent("SHA256SUMS").path))
    }
}
