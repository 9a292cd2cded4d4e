import Crypto

/// A SHA-256 hash in hex, used for fingerprints and the context part of OFREP ETags.
///
/// Each combined string is followed by a zero byte, so `("ab", "c")` and `("a", "bc")` hash differently.
public struct Fingerprint: Sendable {
    private var hasher = SHA256()

    /// Starts an empty hash.
    public init() {}

    /// Adds `string`, followed by a zero byte, to the hash.
    public mutating func combine(_ string: String) {
        var string = string
        string.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
    }

    /// Adds raw bytes, without a terminator: a string written in pieces, ended with ``terminatedDigest``.
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    }

    /// Adds an ASCII piece of a string written in pieces.
    mutating func append(_ piece: StaticString) {
        hasher.update(bufferPointer: UnsafeRawBufferPointer(start: piece.utf8Start, count: piece.utf8CodeUnitCount))
    }

    /// The digest of the pieces appended as one string: ``combine(_:)`` of their concatenation, as 32 bytes.
    var terminatedDigest: Digest256 {
        var copy = self
        withUnsafeBytes(of: UInt8(0)) { copy.hasher.update(bufferPointer: $0) }
        return copy.digest
    }

    /// The hash as 64 lower-case hex digits.
    public var hex: String { digest.hex }

    /// The hash as 32 bytes held inline, for fingerprints kept per flag.
    var digest: Digest256 { Digest256(hasher.finalize()) }

    /// The fingerprint of one string.
    public static func of(_ string: String) -> String {
        digest(of: string).hex
    }

    /// The fingerprint of one string, as 32 bytes.
    static func digest(of string: String) -> Digest256 {
        var hasher = Fingerprint()
        hasher.combine(string)
        return hasher.digest
    }
}

/// A SHA-256 digest stored inline in four words (32 bytes, no allocation), rendered as hex only when asked.
struct Digest256: Sendable, Hashable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    init(_ digest: SHA256.Digest) {
        words = digest.withUnsafeBytes { bytes in
            func word(_ offset: Int) -> UInt64 {
                var value: UInt64 = 0
                for index in offset..<(offset + 8) { value = value << 8 | UInt64(bytes[index]) }
                return value
            }
            return (word(0), word(8), word(16), word(24))
        }
    }

    static func == (lhs: Digest256, rhs: Digest256) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The 64 lower-case hex digits, byte by byte as `hexString` writes a digest.
    var hex: String {
        String(unsafeUninitializedCapacity: 64) { buffer in
            let digits: StaticString = "0123456789abcdef"
            var index = 0
            for word in [words.0, words.1, words.2, words.3] {
                for shift in stride(from: 60, through: 0, by: -4) {
                    buffer[index] = digits.utf8Start[Int((word >> UInt64(shift)) & 0xf)]
                    index += 1
                }
            }
            return 64
        }
    }
}
