import Foundation
import HalyardTesting
import Testing

/// The repository's root: three levels above this file (Tests/HalyardCLITests/PackagingTests.swift).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Why `systemd-analyze verify` cannot run here, or nil: it must exist and accept a trivial unit (it runs without
/// systemd as PID 1, but a container may lack it or forbid it).
private let systemdAnalyzeProblem: String? = {
    guard let analyze = Loopback.executable("/usr/bin/systemd-analyze", "/bin/systemd-analyze") else {
        return "systemd-analyze is not installed (Debian package systemd; Scripts/test installs it): unit check skipped"
    }
    do {
        let directory = try TemporaryDirectory.make(prefix: "halyard-systemd-probe")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/true\n"
            .write(toFile: directory + "/probe.service", atomically: true, encoding: .utf8)
        try Loopback.run(analyze, ["--man=no", "verify", directory + "/probe.service"])
        return nil
    } catch {
        return "systemd-analyze cannot verify units in this container (\(error)): unit check skipped"
    }
}()

/// `Scripts/install` into a temporary prefix: the binary, the hardened unit, completions, the man page and the example
/// configuration, each checked as an operator's tools would.
@Suite(.serialized)
struct PackagingTests {
    /// Runs `Scripts/install --prefix <tmp> --binary <the built halyard>` and returns the prefix.
    private func install() throws -> String {
        let prefix = try TemporaryDirectory.make(prefix: "halyard-install")
        try Loopback.run(repositoryRoot + "/Scripts/install", ["--prefix", prefix, "--binary", HalyardBinary.url.path])
        return prefix
    }

    @Test func installPutsEveryPieceInItsPlace() throws {
        let prefix = try install()
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let fileManager = FileManager.default
        #expect(fileManager.isExecutableFile(atPath: prefix + "/bin/halyard"))
        #expect(fileManager.isExecutableFile(atPath: prefix + "/libexec/halyard/halyard-wait-ready"))

        let unit = try String(contentsOfFile: prefix + "/lib/systemd/system/halyard.service", encoding: .utf8)
        #expect(unit.range(of: "@[A-Z]+@", options: .regularExpression) == nil, "every placeholder is filled in")
        #expect(unit.contains("ExecStart=\(prefix)/bin/halyard serve --config \(prefix)/etc/halyard/halyard.json"))
        for setting in ["DynamicUser=yes", "StateDirectory=halyard", "ProtectSystem=strict", "NoNewPrivileges=yes", "/readyz"] {
            #expect(unit.contains(setting), "the unit has \(setting)")
        }

        let bash = try String(contentsOfFile: prefix + "/share/bash-completion/completions/halyard", encoding: .utf8)
        let zsh = try String(contentsOfFile: prefix + "/share/zsh/site-functions/_halyard", encoding: .utf8)
        let fish = try String(contentsOfFile: prefix + "/share/fish/vendor_completions.d/halyard.fish", encoding: .utf8)
        for (shell, script) in [("bash", bash), ("zsh", zsh), ("fish", fish)] {
            for word in ["serve", "validate", "history", "config", "poll-interval"] {
                #expect(script.contains(word), "the \(shell) completion knows \(word)")
            }
        }
        #expect(zsh.hasPrefix("#compdef halyard"))

        let manual = try String(contentsOfFile: prefix + "/share/man/man1/halyard.1", encoding: .utf8)
        #expect(manual.hasPrefix(".TH \"HALYARD\" \"1\""))
        for text in [".SH NAME", ".SH SYNOPSIS", ".SH COMMANDS", "HALYARD SERVE", "\\-\\-config", "\\-\\-poll\\-interval"] {
            #expect(manual.contains(text), "the man page has \(text)")
        }
        if let man = Loopback.executable("/usr/bin/man") {
            // man(1) renders it without a warning: the roff is well formed.
            let rendered = try Loopback.run("/bin/sh", ["-c", "MANWIDTH=100 \(man) --warnings -l \(prefix)/share/man/man1/halyard.1 2>&1"])
            #expect(rendered.contains("halyard serve"), "\(rendered.prefix(400))")
            #expect(!rendered.contains("troff:") && !rendered.contains("<standard input>"), "\(rendered)")
        }

        let config = try Data(contentsOf: URL(fileURLWithPath: prefix + "/etc/halyard/halyard.json"))
        #expect(try JSONSerialization.jsonObject(with: config) is [String: Any])
        let env = try fileManager.attributesOfItem(atPath: prefix + "/etc/halyard/env")
        #expect((env[.posixPermissions] as? Int) == 0o600, "the secrets file is private")
    }

    @Test func installKeepsAnExistingConfiguration() throws {
        let prefix = try install()
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let config = prefix + "/etc/halyard/halyard.json"
        try #"{"repo": {"url": "https://git.example.com/mine.git"}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        try Loopback.run(repositoryRoot + "/Scripts/install", ["--prefix", prefix, "--binary", HalyardBinary.url.path])
        #expect(try String(contentsOfFile: config, encoding: .utf8).contains("mine.git"))
        #expect(FileManager.default.fileExists(atPath: config + ".example"))
    }

    @Test(.enabled(if: systemdAnalyzeProblem == nil, Comment(rawValue: systemdAnalyzeProblem ?? "")))
    func theUnitPassesSystemdAnalyzeVerifyAndSecurity() throws {
        let prefix = try install()
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let unit = prefix + "/lib/systemd/system/halyard.service"
        // MANPATH lets verify find Documentation=man:halyard(1) in the prefix.
        let verify = try Loopback.run(
            "/usr/bin/env", ["MANPATH=\(prefix)/share/man:", "systemd-analyze", "verify", unit]
        )
        #expect(verify.isEmpty, "systemd-analyze verify: \(verify)")
        // Exposure 2.0 or less ("OK"); the check exits non-zero above the threshold.
        let security = try Loopback.run("/usr/bin/env", ["systemd-analyze", "security", "--offline=yes", "--threshold=20", unit])
        #expect(security.contains("Overall exposure level for halyard.service"), "\(security)")
    }

    @Test func waitReadyReturnsOnceReadyzAnswers200() async throws {
        // A real `halyard serve` in local mode; the script waits for its /readyz and fails fast against a closed port.
        let repository = try GitRepository(prefix: "halyard-wait-ready")
        defer { repository.destroy() }
        try repository.write("flags/production/a.json", Flags.off + "\n")
        try repository.commit("First")
        try "{}".write(toFile: repository.path + "/halyard.json", atomically: true, encoding: .utf8)
        let serve = try await HalyardServeProcess.start(in: repository.path, config: repository.path + "/halyard.json", logPath: repository.path + "/serve.log")
        defer { serve.kill() }
        let script = repositoryRoot + "/packaging/halyard-wait-ready"
        try Loopback.run(script, [serve.baseURL + "/readyz", "20"])

        let closed = try Loopback.freePort()
        #expect(throws: LoopbackDaemonFailure.self) { try Loopback.run(script, ["http://127.0.0.1:\(closed)/readyz", "1"]) }
    }
}
