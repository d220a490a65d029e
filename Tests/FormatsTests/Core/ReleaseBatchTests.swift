import Testing

@testable import Formats

/// Page releases gathered into runs: fewer `madvise` calls, every released byte still handed
/// back, and a bounded amount held back.
@Suite struct ReleaseBatchTests {
    private let window = 2 << 20
    private let tensor = 512 << 10

    @Test func aReaderGoingInOrderReleasesWholeBatches() {
        var batch = ReleaseBatch(mergeDistance: window)
        var released: [Range<Int>] = []
        let tensors = 64
        for index in 0..<tensors { released += batch.add((index * tensor)..<((index + 1) * tensor)) }
        // 32 MB in 512 KB tensors: one call per batch instead of one per tensor.
        #expect(released.count == tensors * tensor / ReleaseBatch.batchBytes)
        #expect(released.allSatisfy { $0.count >= ReleaseBatch.batchBytes })
        #expect(Self.covered(released + batch.runs) == Self.covered([0..<(tensors * tensor)]))
        #expect(batch.runs.reduce(0) { $0 + $1.count } < ReleaseBatch.batchBytes)
    }

    @Test func readersTakingTurnsOverNeighbouringTensorsShareARun() {
        // Two comparison threads take alternate tensors; their releases arrive out of order.
        var batch = ReleaseBatch(mergeDistance: window)
        var released: [Range<Int>] = []
        for index in stride(from: 0, to: 16, by: 2) {
            released += batch.add(((index + 1) * tensor)..<((index + 2) * tensor))
            released += batch.add((index * tensor)..<((index + 1) * tensor))
        }
        // A run may bridge the tensor the other thread still reads (its pages fault back in),
        // so a few more calls than one per batch, but far fewer than one per tensor.
        #expect(released.count < 16 / 2)
        #expect(Self.covered(released + batch.runs) == Self.covered([0..<(16 * tensor)]))
    }

    @Test func distantStreamsKeepRunsOfTheirOwnAndTheOldestGoesFirst() {
        var batch = ReleaseBatch(mergeDistance: window)
        let gap = 100 << 20
        var released: [Range<Int>] = []
        for stream in 0...ReleaseBatch.runLimit {
            released += batch.add((stream * gap)..<(stream * gap + tensor))
        }
        // One stream more than the limit: the first run is handed back, the others wait.
        #expect(released == [0..<tensor])
        #expect(batch.runs.count == ReleaseBatch.runLimit)
        #expect(batch.add(0..<0).isEmpty)
    }

    @Test func aLargeRangeIsReleasedAtOnce() {
        var batch = ReleaseBatch(mergeDistance: window)
        let large = 0..<(3 * ReleaseBatch.batchBytes)
        #expect(batch.add(large) == [large])
        #expect(batch.runs.isEmpty)
    }

    /// The set of bytes `ranges` cover, as sorted disjoint ranges.
    private static func covered(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, range.lowerBound <= last.upperBound {
                result[result.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}
