//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardTesting
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The test receiver itself: stopping it while requests hang and clients keep connecting must neither hang nor crash
/// the test process (it once trapped with "Deinited NIOAsyncWriter without calling finish()" after all tests passed).
@Suite(.timeLimit(.minutes(1)))
struct TestReceiverTests {
    @Test func testStopsWhileRequestsHangAndClientsKeepConnecting() async throws {
        let receiver = try await TestReceiver.start { _, _ in .hang }
        let port = receiver.port
        let connecting = RawClients()
        // Clients that connect and send a request as fast as they can, before and during the stop.
        let clients = Thread { connecting.run(port: port) }
        clients.start()
        try await eventually("requests hang") { receiver.requests.count >= 5 }
        await receiver.stop()
        connecting.finish()
        try await eventually("the clients stopped") { connecting.isFinished }
        #expect(connecting.opened >= 5)
    }

    @Test func testCountsAConnectionUntilItCloses() async throws {
        let receiver = try await TestReceiver.start()
        let socket = RawClients.connect(port: receiver.port)
        try #require(socket >= 0)
        let request = Array("POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}".utf8)
        _ = request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        try await eventually("the request is recorded") { receiver.requests.count == 1 }
        #expect(receiver.openConnections == 1, "a kept-alive connection stays open after its answer")
        close(socket)
        try await eventually("the closed connection is no longer counted") { receiver.openConnections == 0 }
        await receiver.stop()
    }
}

/// Plain TCP clients that each send one webhook-like request and never read the answer.
final class RawClients: @unchecked Sendable {
    private let lock = NSLock()
    private var stopRequested = false
    private var finished = false
    private var count = 0
    private var sockets: [Int32] = []

    var opened: Int { self.lock.withLock { self.count } }
    var isFinished: Bool { self.lock.withLock { self.finished } }

    func finish() {
        self.lock.withLock { self.stopRequested = true }
    }

    func run(port: Int) {
        let request = Array("POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}".utf8)
        while !self.lock.withLock({ self.stopRequested }) && self.opened < 300 {
            let socket = Self.connect(port: port)
            guard socket >= 0 else { continue }
            _ = request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // Few descriptors at a time: other tests in this process spawn `git`, and Foundation's `Process` can crash
            // when the process holds hundreds of them.
            let closing: Int32? = self.lock.withLock {
                self.sockets.append(socket)
                self.count += 1
                return self.sockets.count > 16 ? self.sockets.removeFirst() : nil
            }
            if let closing { close(closing) }
        }
        for socket in self.lock.withLock({ self.sockets }) {
            close(socket)
        }
        self.lock.withLock { self.finished = true }
    }

    /// A socket connected to 127.0.0.1:`port`, or -1.
    static func connect(port: Int) -> Int32 {
        #if canImport(Glibc)
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socket >= 0 else { return -1 }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                #if canImport(Glibc)
                    Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #else
                    Darwin.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #endif
            }
        }
        if result != 0 {
            close(socket)
            return -1
        }
        return socket
    }
}
