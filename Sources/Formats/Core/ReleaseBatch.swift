/// Page releases of one mapping, gathered into fewer and larger `madvise` calls.
///
/// Every `MADV_DONTNEED` on a mapping of a process with several threads interrupts each core the
/// process has run on, to flush its TLB (a shootdown, and in a virtual machine an exit per
/// core). Released a tensor at a time, a verified conversion of the large-dm128 shape made 1,869
/// such calls, and each release of a 2 MB window around a small tensor dropped the pages of its
/// neighbours too, which the next read faulted back in. Here consecutive releases (a reader going
/// through the file in order, or two readers taking turns over neighbouring tensors) extend a
/// run, and a run is handed back once it covers `batchBytes`: the resident set grows by at most
/// `runLimit` runs of less than that per file.
struct ReleaseBatch {
    /// A run is released once it covers this many bytes.
    static let batchBytes = 2 << 20
    /// Separate runs kept at once (the comparison's two threads each go through a file in order);
    /// one more releases the oldest. Three held 3-5 MB more at the peak for no fewer calls.
    static let runLimit = 2

    /// Ranges at most this far apart join one run (the release rounds to windows of this size).
    let mergeDistance: Int
    /// The ranges released but not yet handed back, oldest first.
    private(set) var runs: [Range<Int>] = []

    init(mergeDistance: Int) {
        self.mergeDistance = mergeDistance
    }

    /// Adds `range` to the runs; returns the runs to release now.
    mutating func add(_ range: Range<Int>) -> [Range<Int>] {
        guard !range.isEmpty else { return [] }
        var merged = range
        let distance = mergeDistance
        runs.removeAll { run in
            guard run.lowerBound <= merged.upperBound + distance, merged.lowerBound <= run.upperBound + distance
            else { return false }
            merged = min(run.lowerBound, merged.lowerBound)..<max(run.upperBound, merged.upperBound)
            return true
        }
        if merged.count >= Self.batchBytes { return [merged] }
        runs.append(merged)
        return runs.count > Self.runLimit ? [runs.removeFirst()] : []
    }
}
