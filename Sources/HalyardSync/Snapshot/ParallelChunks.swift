import Dispatch
import Foundation

/// Runs CPU-bound work over contiguous chunks of an index range on every core, for loading big flag sets.
enum ParallelChunks {
    /// Calls `body` once per chunk of `0..<count` (chunks of at least `minimumChunk` indices, a few per core), on
    /// several threads at once, and returns each chunk's range and result in chunk order. Small counts run on the
    /// calling thread.
    ///
    /// `body` must only read shared state; each call gets its own range and returns its own result.
    static func map<Result>(_ count: Int, minimumChunk: Int = 128, _ body: (Range<Int>) -> Result) -> [(range: Range<Int>, value: Result)] {
        let chunkCount = chunkCount(count, minimumChunk: minimumChunk)
        let ranges = (0..<chunkCount).map { chunk in (chunk * count / chunkCount)..<((chunk + 1) * count / chunkCount) }
        if chunkCount == 1 { return [(ranges[0], body(ranges[0]))] }
        var results = [Result?](repeating: nil, count: chunkCount)
        results.withUnsafeMutableBufferPointer { output in
            withoutActuallyEscaping(body) { body in
                // Each iteration writes its own slot and calls `body`, which only reads; `concurrentPerform` returns
                // once every iteration has, so nothing outlives this scope.
                let work = Unchecked(body: body, slots: output)
                DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                    work.slots[chunk] = work.body(ranges[chunk])
                }
            }
        }
        return zip(ranges, results).map { ($0, $1!) }
    }

    /// How many chunks ``map(_:minimumChunk:_:)`` cuts `0..<count` into; 1 means it runs on the calling thread.
    static func chunkCount(_ count: Int, minimumChunk: Int = 128) -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return cores > 1 ? max(1, min(cores * 4, count / max(minimumChunk, 1))) : 1
    }

    /// The work and the result slots, shared with `concurrentPerform`'s iterations (see ``map(_:minimumChunk:_:)``).
    private struct Unchecked<Result>: @unchecked Sendable {
        let body: (Range<Int>) -> Result
        let slots: UnsafeMutableBufferPointer<Result?>
    }
}
