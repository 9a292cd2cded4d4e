/// Reads the SSH wire encoding (RFC 4251 §5): big-endian `uint32`s and length-prefixed `string`s.
///
/// Every read checks the remaining length, so a truncated or hostile blob ends in `nil`, never in a crash.
struct SSHWireReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: some Collection<UInt8>) {
        self.bytes = Array(bytes)
    }

    /// Whether every byte was read.
    var isAtEnd: Bool { offset == bytes.count }

    /// `count` raw bytes.
    mutating func read(count: Int) -> [UInt8]? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A big-endian `uint32`.
    mutating func readUInt32() -> UInt32? {
        guard let raw = read(count: 4) else { return nil }
        return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// A `string`: a `uint32` length, then that many bytes.
    mutating func readString() -> [UInt8]? {
        guard let length = readUInt32() else { return nil }
        return read(count: Int(length))
    }

    /// A `string` that must be UTF-8 text.
    mutating func readText() -> String? {
        readString().map { String(decoding: $0, as: UTF8.self) }
    }

    /// An `mpint` as unsigned big-endian magnitude bytes, without the sign-padding zero bytes.
    mutating func readUnsignedMPInt() -> [UInt8]? {
        guard let raw = readString() else { return nil }
        if raw.first.map({ $0 & 0x80 != 0 }) == true { return nil }  // negative: never valid in a key or signature
        return Array(raw.drop { $0 == 0 })
    }
}

/// Writes the SSH wire encoding, for the message an `sshsig` signature covers.
struct SSHWireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(raw: some Sequence<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    mutating func append(string: some Collection<UInt8>) {
        let count = UInt32(string.count)
        bytes.append(contentsOf: [UInt8(count >> 24), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff)])
        bytes.append(contentsOf: string)
    }

    mutating func append(text: String) {
        append(string: Array(text.utf8))
    }
}
