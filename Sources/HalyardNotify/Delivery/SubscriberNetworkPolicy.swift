//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// Decides, at the moment of every attempt, whether and where a webhook may connect (DESIGN §13, SSRF).
///
/// Anyone with the admin token can subscribe any URL, so without this check Halyard could be made to `POST` to its own
/// loopback services, to the cloud metadata service at `169.254.169.254`, or into the private network it runs in.
/// Unless `notify.allowPrivateNetworks` is true, the deliverer refuses loopback, link-local, private and unspecified
/// addresses, and the IPv6 forms that embed them.
///
/// ## Why the check cannot be raced (DNS rebinding)
///
/// Checking a name and then letting the HTTP client resolve it again would leave a window: a hostile DNS server can
/// answer the check with a public address and the connection with `127.0.0.1` a millisecond later. AsyncHTTPClient
/// 1.37 offers no public hook on the resolved or connected address (its `dnsResolver` is a closed choice between the
/// system and a randomised resolver, and its channel initialisers are internal). So the deliverer resolves the name
/// itself, checks **every** address it gets, and then makes the client connect to the checked address and nothing
/// else: ``target(for:)`` returns ``DeliveryTarget/pinned(host:address:)``, and the deliverer sends that request with a
/// client whose `dnsOverride` maps the host name to the checked IP literal. An IP literal is never looked up again, so
/// the address connected to is the address checked; the `Host` header, the TLS server name (SNI) and certificate
/// verification still use the host name, because `dnsOverride` only changes where the socket connects.
///
/// Numeric hosts that only a resolver understands (`http://2130706433/`, `http://0x7f.1/`) are resolved like names, so
/// they are checked and pinned too. A URL whose host is already a strict IP literal is checked directly and needs no pin.
///
/// With `notify.allowPrivateNetworks` true there is nothing to check on the address, so the request goes through the
/// shared client as is (with its own happy-eyeballs connection to every address of the name). `notify.allowedHosts` is
/// checked in both cases, at every attempt: a subscription created before the list was narrowed is refused too.
struct SubscriberNetworkPolicy: Sendable {
    /// Whether loopback, link-local, private and unspecified addresses may be reached.
    var allowPrivateNetworks: Bool
    /// The hosts a subscriber URL may name (see ``SubscriptionPolicy/allowedHosts``); `nil` allows any.
    var allowedHosts: [String]?
    /// How host names are resolved.
    var resolver: HostResolver = .system
    /// Ranges exempted from the check although `allowPrivateNetworks` is false: tests use it to exercise resolving and
    /// pinning against loopback receivers.
    var exemptRanges: Set<RestrictedRange> = []

    /// Where to connect for `url`, or why not.
    func target(for url: String) async throws -> DeliveryTarget {
        guard let host = Self.connectionHost(of: url) else {
            throw DeliveryRefusal("refused: \(SubscriberURL.redacted(url)) has no host")
        }
        if let allowedHosts = self.allowedHosts, !SubscriptionValidation.isHost(host, allowedBy: allowedHosts) {
            throw DeliveryRefusal("refused: host \(host) is not in notify.allowedHosts")
        }
        if self.allowPrivateNetworks {
            return .asIs
        }
        if let literal = IPAddress(strict: host) {
            try self.check(literal, host: nil)
            return .asIs
        }
        let addresses = try await self.resolver.lookup(host)
        for address in addresses {
            try self.check(address, host: host)
        }
        guard let first = addresses.first else {
            throw HostResolutionError(host: host, reason: "no IPv4 or IPv6 address")
        }
        return .pinned(host: host, address: first)
    }

    private func check(_ address: IPAddress, host: String?) throws(DeliveryRefusal) {
        guard let range = address.restrictedRange, !self.exemptRanges.contains(range) else { return }
        let subject = host.map { "\($0) resolves to \(address), \(range)" } ?? "\(address) is \(range)"
        throw DeliveryRefusal("refused: \(subject); set notify.allowPrivateNetworks to deliver to private networks")
    }

    /// The host AsyncHTTPClient connects to for `url`, computed the way it does (Foundation's `URL.host`, IPv6 brackets
    /// trimmed), so the `dnsOverride` key matches its connection target exactly.
    static func connectionHost(of url: String) -> String? {
        guard let host = URL(string: url)?.host, !host.isEmpty else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") {
            return String(host.dropFirst().dropLast())
        }
        return host
    }
}

/// Where one delivery attempt connects.
enum DeliveryTarget: Sendable, Equatable {
    /// Send the request as it is: the host is a checked IP literal, or private networks are allowed.
    case asIs
    /// Connect to `address` only, for a URL whose host is the name `host`.
    case pinned(host: String, address: IPAddress)
}

/// A delivery the network policy does not allow: recorded as a failed attempt, backed off like any failure.
struct DeliveryRefusal: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Subscriber URLs as they may be shown in logs and errors.
public enum SubscriberURL {
    /// The URL without its query string, fragment and user info, which often carry a receiver's token (DESIGN §13):
    /// `https://hooks.example/x?token=abc` becomes `https://hooks.example/x?…`, `https://u:p@host/` becomes
    /// `https://…@host/`.
    public static func redacted(_ url: String) -> String {
        var result = url
        if let index = result.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            result = String(result[..<index]) + String(result[index]) + "…"
        }
        if let scheme = result.range(of: "://") {
            let authorityEnd = result[scheme.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? result.endIndex
            if let at = result[scheme.upperBound..<authorityEnd].lastIndex(of: "@") {
                result.replaceSubrange(scheme.upperBound..<at, with: "…")
            }
        }
        return result
    }
}
