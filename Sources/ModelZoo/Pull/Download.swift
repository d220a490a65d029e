import Convert
import Formats
import Foundation
import Verify

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Fetches one file into a `.part` file, resuming from what an interrupted run left there.
enum Download {
    /// What happened to one file.
    enum Outcome: Equatable {
        case downloaded(bytes: Int, resumedFrom: Int)
        case missing
    }

    /// Appends `source` to `partial` from its current size (HTTP `Range`, or an offset into a local
    /// file), reporting progress as (bytes so far, total if known).
    static func fetch(_ source: URL, into partial: URL, progress: @escaping @Sendable (Int, Int?) -> Void) throws
        -> Outcome
    {
        let existing = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
        if source.isFileURL { return try copyLocal(source, into: partial, from: existing) }
        return try fetchHTTP(source, into: partial, from: existing, progress: progress)
    }

    private static func copyLocal(_ source: URL, into partial: URL, from offset: Int) throws -> Outcome {
        guard FileManager.default.fileExists(atPath: source.path) else { return .missing }
        let file = try MappedFile(path: source.path)
        guard offset <= file.size else {
            throw ModelZooError.download(url: source.path, reason: "partial file is larger than the source")
        }
        if !FileManager.default.fileExists(atPath: partial.path) {
            _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: partial)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try file.forEachChunk(in: offset..<file.size) { try handle.write(contentsOf: Data($0)) }
        return .downloaded(bytes: file.size, resumedFrom: offset)
    }

    private static func fetchHTTP(
        _ source: URL, into partial: URL, from offset: Int, progress: @escaping @Sendable (Int, Int?) -> Void
    ) throws -> Outcome {
        var request = URLRequest(url: source)
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        let receiver = try Receiver(partial: partial, offset: offset, progress: progress)
        let session = URLSession(configuration: .ephemeral, delegate: receiver, delegateQueue: nil)
        session.dataTask(with: request).resume()
        receiver.done.wait()
        session.finishTasksAndInvalidate()
        if let failure = receiver.failure { throw ModelZooError.download(url: source.absoluteString, reason: failure) }
        if receiver.status == 404 { return .missing }
        guard receiver.status == 200 || receiver.status == 206 else {
            throw ModelZooError.download(url: source.absoluteString, reason: "HTTP status \(receiver.status)")
        }
        return .downloaded(bytes: receiver.written, resumedFrom: receiver.resumedFrom)
    }
}

/// Streams a response body into the `.part` file as it arrives.
private final class Receiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // @unchecked: URLSession calls the delegate on its own serial queue; the caller reads the
    // results only after `done` is signalled.
    let done = DispatchSemaphore(value: 0)
    private(set) var status = 0
    private(set) var failure: String?
    private(set) var written = 0
    private(set) var resumedFrom = 0
    private let partial: URL
    private let offset: Int
    private let progress: @Sendable (Int, Int?) -> Void
    private var handle: FileHandle?
    private var total: Int?

    init(partial: URL, offset: Int, progress: @escaping @Sendable (Int, Int?) -> Void) throws {
        self.partial = partial
        self.offset = offset
        self.progress = progress
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        status = (response as? HTTPURLResponse)?.statusCode ?? 0
        do {
            switch status {
            case 206:
                // The server honoured the Range: append.
                resumedFrom = offset
                if !FileManager.default.fileExists(atPath: partial.path) {
                    _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
                }
                handle = try FileHandle(forWritingTo: partial)
                try handle?.seekToEnd()
            case 200:
                // A full body: start the file over.
                _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
                handle = try FileHandle(forWritingTo: partial)
            default:
                completionHandler(.cancel)
                return
            }
        } catch {
            failure = "cannot write \(partial.path): \(error)"
            completionHandler(.cancel)
            return
        }
        if response.expectedContentLength >= 0 { total = resumedFrom + Int(response.expectedContentLength) }
        written = resumedFrom
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        do {
            try handle?.write(contentsOf: data)
            written += data.count
            progress(written, total)
        } catch {
            failure = "cannot write \(partial.path): \(error)"
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        try? handle?.close()
        if let error, failure == nil, status == 200 || status == 206 {
            failure = "transfer interrupted after \(written) bytes (\(error.localizedDescription)); run again to resume"
        }
        if let total, failure == nil, written != total, status == 200 || status == 206 {
            failure = "transfer ended after \(written) of \(total) bytes; run again to resume"
        }
        done.signal()
    }
}
