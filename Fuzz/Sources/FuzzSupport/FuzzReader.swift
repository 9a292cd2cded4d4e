//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// Splits one fuzz input into several values, so that a target can fuzz a secret, headers and a body at once.
///
/// Each ``field(maximumLength:)`` reads a length byte and then up to that many bytes; ``rest()`` takes what is left.
/// Running out of input gives empty values rather than failing, so every input is usable.
public struct FuzzReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    /// Reads from the start of `bytes`.
    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { index >= bytes.count }

    /// One byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    /// A length byte (taken modulo `maximumLength + 1`) and then that many bytes, fewer at the end of the input.
    public mutating func field(maximumLength: Int = 255) -> [UInt8] {
        let length = Int(byte()) % (maximumLength + 1)
        let end = min(index + length, bytes.count)
        defer { index = end }
        return Array(bytes[index..<end])
    }

    /// Every byte not read yet.
    public mutating func rest() -> [UInt8] {
        defer { index = bytes.count }
        return index < bytes.count ? Array(bytes[index...]) : []
    }
}
