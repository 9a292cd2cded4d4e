//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The client's current flag set, replaced whole, and read by evaluations without contention.
///
/// A single `Mutex<FlagSet?>` read by every evaluation makes threads fight over two cache lines: the mutex word and
/// the flag set's reference count, which every copy of the reference increments and decrements atomically. So the
/// cell keeps one strong reference (``value``, for everything but evaluation) and, for evaluation, a few reader
/// slots, each a mutex on its own cache line holding an unretained reference to the same set. A thread always uses
/// the slot of its own number (``ReaderSlot``), so two threads take different, uncontended locks, and
/// ``withCurrent(ifNone:_:)`` lends the set to its body without retaining it.
///
/// ``replace(_:)`` holds every slot's lock at once while it points them at the new set, and drops the old set only
/// after releasing them: an evaluation sees the old set or the new one, never a mixture, and once any thread has seen
/// the new set no thread sees the old one again. A fetch, a decode or a cache write happens before and outside.
final class FlagSetCell: @unchecked Sendable {  // the slots are reached only through their mutexes
    private typealias Slot = Mutex<Unmanaged<FlagSet>?>

    /// Bytes between slots: two cache lines, so that adjacent-line prefetching does not couple them either.
    private static let slotStride = 128
    private let owner: Mutex<FlagSet?>
    private let slotMask: Int
    private let slots: UnsafeMutableRawPointer

    init(_ initial: FlagSet?) {
        precondition(MemoryLayout<Slot>.stride <= Self.slotStride)
        owner = Mutex(initial)
        var count = 4
        while count < System.coreCount * 2 { count *= 2 }
        slotMask = count - 1
        slots = .allocate(byteCount: count * Self.slotStride, alignment: Self.slotStride)
        for index in 0..<count {
            (slots + index * Self.slotStride).bindMemory(to: Slot.self, capacity: 1)
                .initialize(to: Slot(initial.map { Unmanaged.passUnretained($0) }))
        }
    }

    deinit {
        for index in 0...slotMask {
            slot(index).deinitialize(count: 1)
        }
        slots.deallocate()
    }

    @inline(__always)
    private func slot(_ index: Int) -> UnsafeMutablePointer<Slot> {
        (slots + (index & slotMask) * Self.slotStride).assumingMemoryBound(to: Slot.self)
    }

    /// The flag set now, or `nil` before the first one; a strong reference, for everything but the evaluation path.
    var value: FlagSet? { owner.withLock { $0 } }

    /// Runs `body` with the flag set now, lent without retaining it; `ifNone` before the first set.
    ///
    /// The body runs under this thread's slot lock: keep it short and do not keep the set or pointers into it.
    @inline(__always)
    func withCurrent<Result: Sendable>(ifNone: Result, _ body: (FlagSet) -> Result) -> Result {
        slot(ReaderSlot.current).pointee.withLock { set in
            guard let set else { return ifNone }
            return set._withUnsafeGuaranteedRef(body)
        }
    }

    /// Swaps in `set` and returns the one it replaces.
    func replace(_ set: FlagSet) -> FlagSet? {
        owner.withLock { owner in
            let old = owner
            owner = set
            pointSlots(from: 0, to: Unmanaged.passUnretained(set))
            // `old` stays alive until the caller drops it, after every slot has let go of it.
            return old
        }
    }

    /// Takes the locks of slot `index` and of every later one, and points them all at `set` while holding all of them.
    private func pointSlots(from index: Int, to set: Unmanaged<FlagSet>) {
        guard index <= slotMask else { return }
        slot(index).pointee.withLock { current in
            current = set
            pointSlots(from: index + 1, to: set)
        }
    }
}

/// A small number per thread, given out in order on a thread's first evaluation, that picks its ``FlagSetCell`` slot.
enum ReaderSlot {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()
    private static let next = Atomic<Int>(0)

    /// This thread's number.
    static var current: Int {
        @inline(__always) get {
            if let number = pthread_getspecific(key) { return Int(bitPattern: number) }
            return assign()
        }
    }

    @inline(never)
    private static func assign() -> Int {
        let number = next.wrappingAdd(1, ordering: .relaxed).newValue
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: number))
        return number
    }
}

/// Fans ``FlagChange``s out to every live ``HalyardClient/changes`` sequence.
final class ChangeBroadcaster: Sendable {
    private struct State {
        var next = 0
        var continuations: [Int: AsyncStream<FlagChange>.Continuation] = [:]
    }

    private let state = Mutex(State())

    /// A new sequence of the changes from now on; it keeps the newest 64 when its reader falls behind.
    func subscribe() -> AsyncStream<FlagChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: FlagChange.self, bufferingPolicy: .bufferingNewest(64))
        let key = state.withLock { state in
            let key = state.next
            state.next += 1
            state.continuations[key] = continuation
            return key
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.continuations.removeValue(forKey: key) }
        }
        return stream
    }

    func yield(_ change: FlagChange) {
        for continuation in state.withLock({ Array($0.continuations.values) }) {
            continuation.yield(change)
        }
    }

    func finish() {
        let all = state.withLock { state in
            let all = Array(state.continuations.values)
            state.continuations = [:]
            return all
        }
        for continuation in all { continuation.finish() }
    }
}

/// Lets tasks wait until the client has a flag set.
final class ReadySignal: Sendable {
    private struct State {
        var isReady = false
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var isReady: Bool { state.withLock { $0.isReady } }

    func markReady() {
        let waiters = state.withLock { state in
            state.isReady = true
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ready, or when the task is cancelled.
    func wait() async {
        let key = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.isReady || Task.isCancelled { return true }
                    state.waiters[key] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.resume()
        }
    }
}
