import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Picks the port that `http.port = 0` listens on before the server starts.
///
/// The watcher writes `flagsUrl` into webhook bodies as soon as it applies a commit, which can happen before the HTTP
/// server has bound its socket (after a restart, for changes made while the service was down). So the port is chosen
/// up front: the operating system assigns a free one to a socket bound on `host`, which is closed at once and the port
/// handed to the server. Another process could take the port in between, but the window is a few milliseconds and the
/// kernel does not hand a just-released ephemeral port out again straight away.
enum FreePort {
    /// A free TCP port on `host`, or `nil` when the host cannot be resolved or bound (the server then reports it).
    static func find(host: String) -> Int? {
        guard let address = try? SocketAddress.makeAddressResolvingHost(host, port: 0) else { return nil }
        #if canImport(Glibc)
            let descriptor = socket(address.protocol.rawValue, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(address.protocol.rawValue, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let bound = address.withSockAddr { pointer, length in bind(descriptor, pointer, socklen_t(length)) }
        guard bound == 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { storagePointer in
            storagePointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return nil }
        guard Int32(storage.ss_family) == AF_INET || Int32(storage.ss_family) == AF_INET6 else { return nil }
        // sockaddr_in and sockaddr_in6 both hold the port at bytes 2 and 3, in network byte order.
        return withUnsafeBytes(of: &storage) { Int(UInt16($0[2]) << 8 | UInt16($0[3])) }
    }
}
