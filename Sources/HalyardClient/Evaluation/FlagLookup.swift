//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// A flag set's flags by id, laid out for the evaluation path: an open-addressing table whose flags are read in place.
///
/// Looking a flag up in a `[String: Flag]` and evaluating it copies the flag out (or a reference to a box), so every
/// evaluation retains and releases objects that every thread shares: atomic writes to the same cache lines, which is
/// what made `client.bool` slow from several threads. Here the ids and the flags' boxes live in memory that the owning
/// ``FlagSet`` allocates once and frees in its `deinit`, and ``withFlag(_:ifMissing:_:)`` lends the box to its body
/// unretained; the flag is a `let` of the box, so the compiler evaluates it in place rather than copying it (a flag
/// read through an `UnsafePointer<Flag>` would be copied, every reference-counted field of it retained, first).
///
/// The boxes stay alive for as long as the flag set lives; ``FlagSetCell`` only lends the set to code that runs while
/// it is installed.
struct FlagLookup: @unchecked Sendable {  // immutable after init; the memory is freed by the owning FlagSet only
    private let count: Int
    private let mask: Int
    /// Per table slot: the index of the flag in ``ids`` and ``flags`` plus one, or 0 for an empty slot.
    private let slots: UnsafeMutablePointer<Int32>
    private let hashes: UnsafeMutablePointer<UInt64>
    private let ids: UnsafeMutablePointer<String>
    /// The flags' boxes, retained once here and released in ``deallocate()``.
    private let boxes: UnsafeMutablePointer<Unmanaged<FlagBox>>

    /// Lays out `flags` in `order`.
    init(_ flags: [String: Flag], order: [String]) {
        count = order.count
        var capacity = 8
        while capacity < count * 2 { capacity *= 2 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        hashes = .allocate(capacity: max(count, 1))
        ids = .allocate(capacity: max(count, 1))
        boxes = .allocate(capacity: max(count, 1))
        for (index, id) in order.enumerated() {
            let hash = Self.hash(id)
            (hashes + index).initialize(to: hash)
            // A fresh copy is a small (inline) string when the id fits in 15 bytes, as the ids that callers write as
            // literals are: comparing two of them is one comparison of their raw bits.
            (ids + index).initialize(to: String(decoding: Array(id.utf8), as: UTF8.self))
            (boxes + index).initialize(to: Unmanaged.passRetained(FlagBox(flags[id]!)))
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }

    /// Runs `body` with the box of the flag with `id`, lent without retaining it; `ifMissing` when there is none.
    @inline(__always)
    func withFlag<Result>(_ id: String, ifMissing: Result, _ body: (FlagBox) -> Result) -> Result {
        guard let box = box(id) else { return ifMissing }
        return box._withUnsafeGuaranteedRef(body)
    }

    @inline(__always)
    private func box(_ id: String) -> Unmanaged<FlagBox>? {
        let hash = Self.hash(id)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            let index = entry - 1
            if hashes[index] == hash && ids[index] == id { return boxes[index] }
            slot = (slot + 1) & mask
        }
    }

    /// Frees the table; called once, by the owning flag set's `deinit`.
    func deallocate() {
        ids.deinitialize(count: count)
        for index in 0..<count { boxes[index].release() }
        ids.deallocate()
        boxes.deallocate()
        hashes.deallocate()
        slots.deallocate()
    }

    /// FNV-1a over the id's UTF-8, then mixed so that the low bits (the table slot) depend on every byte. Flag ids come
    /// from the repository, not from requests, so a fast unkeyed hash is enough.
    @inline(__always)
    static func hash(_ id: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 29
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        return hash ^ (hash >> 32)
    }
}

/// One flag of a ``FlagLookup``: a class, so that the flag is read in place through an unretained reference.
final class FlagBox: Sendable {
    let flag: Flag

    init(_ flag: Flag) {
        self.flag = flag
    }
}
