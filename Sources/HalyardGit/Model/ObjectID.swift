internal import CLibgit2

/// The id of a git object (a SHA-1 hash), as a small Sendable value.
///
/// Ids cross actor and task boundaries freely (the store remembers which commit it serves, webhooks carry them), so
/// they hold the 20 bytes by value and never a libgit2 pointer. They encode as their 40-character hex string.
public struct ObjectID: Sendable, Hashable, CustomStringConvertible {
    // The 20 bytes of a `git_oid`, in memory order.
    private let head: UInt64
    private let middle: UInt64
    private let tail: UInt32

    /// Parses 40 hexadecimal digits (either case); returns nil for anything else, abbreviations included.
    public init?(hex: String) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(20)
        var high: UInt8?
        var count = 0
        for character in hex.utf8 {
            count += 1
            guard count <= 40, let nibble = Self.nibble(character) else { return nil }
            if let value = high {
                bytes.append(value << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard count == 40 else { return nil }
        self = bytes.withUnsafeBytes { Self(rawBytes: $0) }
    }

    init(_ oid: git_oid) {
        self = withUnsafeBytes(of: oid) { Self(rawBytes: $0) }
    }

    init(_ oid: UnsafePointer<git_oid>) {
        self.init(oid.pointee)
    }

    init(rawBytes: UnsafeRawBufferPointer) {
        head = rawBytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        middle = rawBytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        tail = rawBytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self)
    }

    /// The id as libgit2's `git_oid`.
    var oid: git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid) { raw in
            raw.storeBytes(of: head, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: middle, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: tail, toByteOffset: 16, as: UInt32.self)
        }
        return oid
    }

    /// The full 40-character lower-case hex form.
    public var hex: String {
        withUnsafeBytes(of: oid) { raw in
            String(unsafeUninitializedCapacity: 40) { buffer in
                for (index, byte) in raw.prefix(20).enumerated() {
                    buffer[2 * index] = Self.digits[Int(byte >> 4)]
                    buffer[2 * index + 1] = Self.digits[Int(byte & 0x0F)]
                }
                return 40
            }
        }
    }

    /// The first 7 hex digits, as `git log --oneline` shows them.
    public var shortHex: String { String(hex.prefix(7)) }

    /// The full hex form.
    public var description: String { hex }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension ObjectID: Codable {
    /// Decodes the 40-character hex form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let hex = try container.decode(String.self)
        guard let id = ObjectID(hex: hex) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(hex)' is not a 40-digit git object id")
        }
        self = id
    }

    /// Encodes the 40-character hex form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
