//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a subscriber's host name into addresses, so the deliverer can check them before it connects.
///
/// The system resolver (`getaddrinfo`) blocks, so it runs on a Dispatch queue rather than on the cooperative pool; the
/// caller stops waiting as soon as its task is cancelled (the deadline of the attempt), even if the lookup goes on.
/// Tests replace the lookup to map made-up names to loopback addresses.
struct HostResolver: Sendable {
    /// Resolves one host name.
    var lookup: @Sendable (_ host: String) async throws -> [IPAddress]

    /// The system resolver: `getaddrinfo`, which also understands the numeric forms `2130706433` and `0x7f.1`.
    static let system = HostResolver { host in
        try await withCancellableBlockingCall { try getAddresses(host) }
    }

    private static func getAddresses(_ host: String) throws(HostResolutionError) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc) || canImport(Musl)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let list else {
            throw HostResolutionError(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            let info = current.pointee
            if let socketAddress = info.ai_addr {
                let address: IPAddress?
                switch info.ai_family {
                case AF_INET:
                    address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin_addr
                        return IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) })
                    }
                case AF_INET6:
                    address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin6_addr
                        return IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) })
                    }
                default:
                    address = nil
                }
                if let address, !addresses.contains(address) {
                    addresses.append(address)
                }
            }
            entry = info.ai_next
        }
        guard !addresses.isEmpty else {
            throw HostResolutionError(host: host, reason: "no IPv4 or IPv6 address")
        }
        return addresses
    }
}

/// A host name that does not resolve.
struct HostResolutionError: Error, CustomStringConvertible {
    /// The name looked up.
    var host: String
    /// The resolver's explanation.
    var reason: String

    var description: String { "cannot resolve \(self.host): \(self.reason)" }
}

/// Runs a blocking call on a Dispatch queue and returns its result, or throws `CancellationError` as soon as the calling
/// task is cancelled (the call itself then finishes unobserved).
func withCancellableBlockingCall<T: Sendable>(_ call: @escaping @Sendable () throws -> T) async throws -> T {
    let once = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            guard once.install(continuation) else { return }
            DispatchQueue.global().async {
                once.resume(with: Result { try call() })
            }
        }
    } onCancel: {
        once.resume(with: .failure(CancellationError()))
    }
}

/// A continuation resumed exactly once, by whichever comes first: the result or the cancellation.
private final class ResumeOnce<T: Sendable>: Sendable {
    private enum State {
        case waiting
        case installed(CheckedContinuation<T, any Error>)
        case done(Result<T, any Error>?)
    }

    private let state = Mutex<State>(.waiting)

    /// Stores the continuation; returns false (after resuming it) when the outcome is already known.
    func install(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        let early: Result<T, any Error>?? = self.state.withLock { state in
            switch state {
            case .waiting:
                state = .installed(continuation)
                return .none
            case .installed:
                return .none
            case .done(let result):
                state = .done(nil)
                return .some(result)
            }
        }
        if case .some(let result) = early {
            continuation.resume(with: result ?? .failure(CancellationError()))
            return false
        }
        return true
    }

    func resume(with result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = self.state.withLock { state in
            switch state {
            case .waiting:
                state = .done(result)
                return nil
            case .installed(let continuation):
                state = .done(nil)
                return continuation
            case .done:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}
