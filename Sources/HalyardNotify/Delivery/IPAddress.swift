//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address, as the deliverer checks it before connecting to a subscriber.
///
/// It is deliberately small: raw bytes, strict parsing of the textual forms `inet_pton` accepts (the same forms
/// AsyncHTTPClient treats as an IP literal, so the two never disagree about what a URL's host is), and the
/// classification of DESIGN §13's private ranges.
struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    let bytes: [UInt8]

    /// An address from its bytes; `nil` unless there are 4 or 16.
    init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a dotted-quad IPv4 or a textual IPv6 address (without brackets); `nil` for anything else, including the
    /// decimal, octal and short forms (`2130706433`, `0177.1`) that only a resolver accepts.
    init?(strict text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    var isIPv4: Bool { self.bytes.count == 4 }

    /// The conventional textual form (`127.0.0.1`, `::1`), as `inet_ntop` writes it.
    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = self.isIPv4 ? AF_INET : AF_INET6
        let written = self.bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        guard written != nil else { return self.bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The non-public range the address lies in, or `nil` for an address on the public internet.
    ///
    /// IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96` and the NAT64 prefix
    /// `64:ff9b::/96`) are judged by that IPv4 address, so `::ffff:127.0.0.1` is loopback.
    var restrictedRange: RestrictedRange? {
        if self.isIPv4 {
            return Self.restrictedIPv4Range(self.bytes)
        }
        let b = self.bytes
        let prefix96 = Array(b[0..<12])
        let embedded = Array(b[12..<16])
        if prefix96 == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] || prefix96 == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
            return Self.restrictedIPv4Range(embedded)
        }
        if prefix96.allSatisfy({ $0 == 0 }) {
            switch embedded {
            case [0, 0, 0, 0]: return .unspecified  // ::
            case [0, 0, 0, 1]: return .loopback  // ::1
            default: return Self.restrictedIPv4Range(embedded)  // ::a.b.c.d, IPv4-compatible
            }
        }
        if b[0] == 0xFE && (b[1] & 0xC0) == 0x80 { return .linkLocal }  // fe80::/10
        if b[0] == 0xFE && (b[1] & 0xC0) == 0xC0 { return .privateNetwork }  // fec0::/10, the old site-local
        if (b[0] & 0xFE) == 0xFC { return .privateNetwork }  // fc00::/7, unique local
        return nil
    }

    private static func restrictedIPv4Range(_ b: [UInt8]) -> RestrictedRange? {
        switch (b[0], b[1]) {
        case (0, _): return .unspecified  // 0.0.0.0/8, "this network": connecting to it reaches the local host
        case (127, _): return .loopback
        case (169, 254): return .linkLocal
        case (10, _): return .privateNetwork
        case (172, 16...31): return .privateNetwork
        case (192, 168): return .privateNetwork
        default: return nil
        }
    }
}

/// A range of addresses a webhook does not reach unless `notify.allowPrivateNetworks` is true (DESIGN §13).
enum RestrictedRange: Sendable, Hashable, CustomStringConvertible {
    /// `127.0.0.0/8`, `::1`.
    case loopback
    /// `169.254.0.0/16`, `fe80::/10`: among others the cloud metadata services at 169.254.169.254.
    case linkLocal
    /// `10/8`, `172.16/12`, `192.168/16`, `fc00::/7`.
    case privateNetwork
    /// `0.0.0.0/8`, `::`.
    case unspecified

    /// The range with its article, for error messages: "a loopback address".
    var description: String {
        switch self {
        case .loopback: "a loopback address"
        case .linkLocal: "a link-local address"
        case .privateNetwork: "a private address"
        case .unspecified: "an unspecified address"
        }
    }
}
