import Foundation

/// Runs a short-lived helper program (`gpgv`) to completion, its output captured in files.
///
/// Spawned with `posix_spawn` rather than Foundation's `Process`, as the test support does for its daemons: the child
/// gets `/dev/null` as input, files as output (so no pipe can fill up or be held open by another child), none of the
/// parent's other descriptors, and a fixed environment. It runs on the caller's thread, the git worker's own thread in
/// the service, and is killed after `timeout`.
struct ChildProcess {
    /// How the program ended and what it printed.
    struct Outcome {
        /// The exit status, or nil when the program was killed by a signal.
        let status: Int32?
        let standardOutput: String
        let standardError: String
    }

    let executable: String
    let arguments: [String]
    var timeout: Duration = .seconds(30)

    /// Runs the program with its output in `directory` (which must exist and be private).
    func run(outputIn directory: String) throws(SignatureConfigurationError) -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw SignatureConfigurationError(path: executable, message: "not found or not executable")
        }
        let outputPath = directory + "/stdout"
        let errorPath = directory + "/stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // glibc ignores a close action whose descriptor was closed meanwhile, so a listing that is slightly stale is fine.
        for descriptor in Self.openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
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
        let variables = ["PATH=/usr/bin:/bin", "LC_ALL=C"]
        let environment: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer { environment.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environment)
        guard result == 0 else {
            throw SignatureConfigurationError(path: executable, message: "cannot start it: \(String(cString: strerror(result)))")
        }
        let status = Self.wait(for: child, timeout: timeout)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        guard let status else {
            throw SignatureConfigurationError(path: executable, message: "did not finish within \(timeout)")
        }
        return Outcome(status: status.exited ? status.code : nil, standardOutput: output, standardError: errors)
    }

    /// Reaps the child; nil when it had to be killed after `timeout`.
    private static func wait(for child: pid_t, timeout: Duration) -> (exited: Bool, code: Int32)? {
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while true {
            let result = waitpid(child, &status, WNOHANG)
            if result == child { break }
            if result < 0 && errno != EINTR { return (false, 0) }
            if ContinuousClock.now > deadline {
                kill(child, SIGKILL)
                _ = waitpid(child, &status, 0)
                return nil
            }
            usleep(2_000)
        }
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let exited = status & 0x7f == 0
        return (exited, (status >> 8) & 0xff)
    }

    private static func openDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }
    }
}
