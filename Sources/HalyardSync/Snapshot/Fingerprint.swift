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
        hasher.update(data: Array(string.utf8))
        hasher.update(data: [0])
    }

    /// The hash as 64 lower-case hex digits.
    public var hex: String { hasher.finalize().hexString }

    /// The fingerprint of one string.
    public static func of(_ string: String) -> String {
        var hasher = Fingerprint()
        hasher.combine(string)
        return hasher.hex
    }
}
