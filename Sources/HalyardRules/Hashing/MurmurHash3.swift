/// MurmurHash3 x86_32, fed incrementally.
///
/// Sticky `%` rules hash `"<flagId>:<value>"`. The flag-id prefix is hashed once when the flag is compiled and the
/// state copied for every evaluation, so only the attribute value's bytes are hashed per user. Bytes may come in any
/// split; the result equals the one-shot hash of their concatenation.
struct MurmurHash3x86_32: Sendable {
    private static let c1: UInt32 = 0xCC9E_2D51
    private static let c2: UInt32 = 0x1B87_3593

    private var h1: UInt32
    private var tail: UInt32 = 0
    private var tailCount: UInt32 = 0
    private var length: UInt32 = 0

    init(seed: UInt32 = 0) { h1 = seed }

    @inline(__always)
    mutating func combine(_ byte: UInt8) {
        tail |= UInt32(byte) << (tailCount &* 8)
        tailCount &+= 1
        length &+= 1
        if tailCount == 4 {
            h1 ^= Self.mixBlock(tail)
            h1 = (h1 << 13 | h1 >> 19) &* 5 &+ 0xE654_6B64
            tail = 0
            tailCount = 0
        }
    }

    @inline(__always)
    mutating func combine(_ bytes: UnsafeBufferPointer<UInt8>) {
        var index = 0
        let count = bytes.count
        // Finish a partial block first, then take whole blocks.
        while tailCount != 0, index < count {
            combine(bytes[index])
            index += 1
        }
        while index + 4 <= count {
            let block = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
            h1 ^= Self.mixBlock(block)
            h1 = (h1 << 13 | h1 >> 19) &* 5 &+ 0xE654_6B64
            length &+= 4
            index += 4
        }
        while index < count {
            combine(bytes[index])
            index += 1
        }
    }

    mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { combine(byte) }
    }

    func finalize() -> UInt32 {
        var h = h1
        if tailCount > 0 { h ^= Self.mixBlock(tail) }
        h ^= length
        h ^= h >> 16
        h &*= 0x85EB_CA6B
        h ^= h >> 13
        h &*= 0xC2B2_AE35
        h ^= h >> 16
        return h
    }

    @inline(__always)
    private static func mixBlock(_ block: UInt32) -> UInt32 {
        var k = block &* c1
        k = k << 15 | k >> 17
        return k &* c2
    }
}
