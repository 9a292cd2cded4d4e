//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

/// A server program (nginx, fcgiwrap, sshd) run by a test on loopback, its output in a log file, stopped by the test.
///
/// Spawned with `posix_spawn`, not Foundation's `Process`: on Linux, `Process` learns that a child ended when a socket
/// it hands the child reaches end-of-file, then reaps it with a blocking `waitpid` on a serial queue. sshd and nginx
/// close inherited descriptors at start-up, so `Process` took them for dead, blocked in `waitpid` forever, and never
/// reaped any later child (every `git` run of the test hung). Here the child gets no descriptor but its log, an empty
/// signal mask (so SIGTERM works), and is reaped by ``stop()``.
public final class LoopbackDaemon {
    /// The program's name, for messages.
    public let name: String
    /// The file its standard output and error go to.
    public let logPath: String
    private let pid: pid_t
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments`; its output goes to `logPath`.
    public init(name: String, executable: String, arguments: [String], logPath: String) throws {
        self.name = name
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result: Int32 = try Self.spawnLocked {
            // Close every other descriptor of the test process in the child (listed now: the set changes while tests
            // run), so no daemon keeps another child's pipes or sockets open.
            for fd in Self.openDescriptors() where fd > 2 {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
            return posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        }
        guard result == 0 else {
            throw LoopbackDaemonFailure(message: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Whether the program still runs.
    public var isRunning: Bool {
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid || (result < 0 && errno == ECHILD) {
            exitStatus = status
            return false
        }
        return true
    }

    /// What the program wrote so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Waits until `ready` holds, polling every 20 ms; throws when the program exits first or after `timeout`.
    public func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ ready: () -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while !ready() {
            guard isRunning else {
                throw LoopbackDaemonFailure(message: "\(name) exited (wait status \(exitStatus ?? -1)) before \(what): \(log)")
            }
            guard ContinuousClock.now < deadline else {
                throw LoopbackDaemonFailure(message: "\(name) did not get to \(what) within \(timeout): \(log)")
            }
            usleep(20_000)
        }
    }

    /// Stops the program with SIGKILL and reaps it. A test server holds nothing that needs a graceful stop.
    public func stop() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exitStatus = status
    }

    deinit { stop() }

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }
}

/// A test server that did not start.
public struct LoopbackDaemonFailure: Error, CustomStringConvertible {
    /// What went wrong, with the program's output.
    public let message: String

    /// The message.
    public var description: String { message }
}

/// Loopback ports and external programs for test servers.
public enum Loopback {
    /// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackDaemonFailure(message: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw LoopbackDaemonFailure(message: "bind() failed: errno \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw LoopbackDaemonFailure(message: "getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// The first of `paths` that is an executable file.
    public static func executable(_ paths: String...) -> String? {
        paths.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a program to completion and returns its standard output; throws with its output when it fails.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try LoopbackDaemon.spawnLocked { try process.run() }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw LoopbackDaemonFailure(message: "\(executable) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
        }
        return text
    }
}

extension LoopbackDaemon {
    /// Runs `body` while no other test spawns a process through this module: Foundation's `Process.run()` is not safe
    /// to call concurrently (a concurrent spawn has left children unreaped and a test hanging), so this shares
    /// ``Git``'s lock.
    static func spawnLocked<Result>(_ body: () throws -> Result) throws -> Result {
        try Git.spawning.withLock { _ in try body() }
    }
}
