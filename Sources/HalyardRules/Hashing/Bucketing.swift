/// The two bucketing algorithms of `%` rules.
///
/// Sticky rules (with an `attribute`) use MurmurHash3 x86_32 of `"<flagId>:<value>"`, so a user keeps their bucket
/// across environments and attribute changes, and raising a percentage only adds users. Rules without an attribute
/// reproduce Semaphore 1.0 bit for bit, so that teams migrating from Semaphore keep their rollout populations.
public enum Bucketing {
    /// MurmurHash3 x86_32 of `bytes`.
    ///
    /// ```swift
    /// Bucketing.murmur3x86_32(Array("hello".utf8))  // 0x248BFA47
    /// ```
    public static func murmur3x86_32(_ bytes: some Collection<UInt8>, seed: UInt32 = 0) -> UInt32 {
        var hasher = MurmurHash3x86_32(seed: seed)
        if bytes.withContiguousStorageIfAvailable({ hasher.combine($0) }) == nil {
            hasher.combine(bytes)
        }
        return hasher.finalize()
    }

    /// The sticky bucket, 0…9999, of an attribute value under a flag: `murmur3("<flagId>:<value>") % 10000`.
    ///
    /// Strings hash as they are (case matters), numbers in their shortest form (`42`, `1.5`) and booleans as
    /// `true`/`false`. Null, arrays and objects have no bucket.
    public static func stickyBucket(flagID: String, value: JSONValue) -> Int? {
        var hasher = MurmurHash3x86_32()
        hasher.combine(flagID.utf8)
        hasher.combine(UInt8(ascii: ":"))
        guard StickyText.combine(value, into: &hasher) else { return nil }
        return Int(hasher.finalize() % 10_000)
    }

    /// Semaphore 1.0's bucket for a rule object and user attributes, 0.0000…0.9999 (reference §5).
    ///
    /// The rule object and then the user object are each written as `[{"k":v},…]` with keys sorted by UTF-16 code
    /// unit and Lucee's JSON conventions; the MD5 of their concatenation, as upper-case hex, loses its letters; and the
    /// first four remaining digits are the bucket's decimals. A user is in a `%` rule iff `bucket <= percentage / 100`.
    ///
    /// ```swift
    /// Bucketing.semaphoreBucket(rule: ["type": "%", "percentage": 50], user: ["userId": 1])  // 0.2659
    /// ```
    public static func semaphoreBucket(rule: [String: JSONValue], user: [String: JSONValue]) -> Double {
        var ruleText: [UInt8] = []
        LuceeJSON.deterministicString(rule, into: &ruleText)
        var userText: [UInt8] = []
        LuceeJSON.deterministicString(user, into: &userText)
        return semaphoreBucket(ruleText: ruleText, userText: userText)
    }

    /// The bucket of pre-serialised rule and user texts.
    static func semaphoreBucket(ruleText: [UInt8], userText: [UInt8]) -> Double {
        let state = MD5.hash(ruleText, userText)
        // The digest's bytes are the state words in little-endian order; its hex digits go high nibble first.
        var decimals = 0
        var count = 0
        outer: for word in [state.0, state.1, state.2, state.3] {
            for byteIndex in 0..<4 {
                let byte = UInt8(truncatingIfNeeded: word >> UInt32(byteIndex * 8))
                for nibble in [byte >> 4, byte & 0xF] where nibble < 10 {
                    decimals = decimals * 10 + Int(nibble)
                    count += 1
                    if count == 4 { break outer }
                }
            }
        }
        guard count > 0 else { return 0 }
        var scale = 1
        for _ in 0..<count { scale *= 10 }
        return Double(decimals) / Double(scale)
    }
}

/// Writes an attribute value as the text sticky bucketing hashes, straight into a hasher.
enum StickyText {
    /// Feeds the value's text to `hasher`; returns `false` for values that have no bucket (null, arrays, objects).
    @inline(__always)
    static func combine(_ value: JSONValue, into hasher: inout MurmurHash3x86_32) -> Bool {
        switch value {
        case .string(let string):
            if string.utf8.withContiguousStorageIfAvailable({ hasher.combine($0) }) == nil {
                hasher.combine(string.utf8)
            }
            return true
        case .number(let number):
            combine(number: number.double, into: &hasher)
            return true
        case .bool(let flag):
            hasher.combine((flag ? "true" : "false").utf8)
            return true
        case .null, .array, .object:
            return false
        }
    }

    /// Integers are written digit by digit without allocating; other numbers use the shared shortest form.
    @inline(__always)
    static func combine(number: Double, into hasher: inout MurmurHash3x86_32) {
        if number == number.rounded(.towardZero), number.magnitude < 1e15 {
            var integer = Int64(number)
            if integer < 0 {
                hasher.combine(UInt8(ascii: "-"))
                integer = -integer
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
                var position = 20
                repeat {
                    position -= 1
                    buffer[position] = UInt8(ascii: "0") + UInt8(integer % 10)
                    integer /= 10
                } while integer > 0
                hasher.combine(UnsafeBufferPointer(rebasing: buffer[position..<20]))
            }
        } else {
            hasher.combine(JSONNumberFormatting.shortest(number).utf8)
        }
    }
}
