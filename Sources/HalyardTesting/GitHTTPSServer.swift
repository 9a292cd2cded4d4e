//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// A throwaway certificate authority made with `openssl` at test time, and server certificates it signs.
public struct TestCertificateAuthority: Sendable {
    /// The CA's certificate (PEM): what a client is told to trust.
    public let certificatePath: String
    private let keyPath: String
    private let directory: String

    /// Whether `openssl` is installed.
    public static var isAvailable: Bool { Loopback.executable("/usr/bin/openssl") != nil }

    /// Creates a CA (an EC P-256 key and a self-signed certificate, valid 2 days) in `directory`, files named `name`.
    public init(in directory: String, name: String = "ca") throws {
        self.directory = directory
        certificatePath = directory + "/\(name).crt"
        keyPath = directory + "/\(name).key"
        try Loopback.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyPath,
                "-out", certificatePath, "-days", "2", "-subj", "/CN=Halyard Test CA \(name)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ]
        )
    }

    /// Issues a server certificate for `hostName` (a DNS name: libgit2's mbedTLS backend does not match IP addresses);
    /// returns the paths of the certificate and its key.
    public func issueServerCertificate(for hostName: String, name: String = "server") throws -> (certificate: String, key: String) {
        let key = directory + "/\(name).key"
        let request = directory + "/\(name).csr"
        let certificate = directory + "/\(name).crt"
        let extensions = directory + "/\(name).ext"
        try "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:\(hostName)\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        try Loopback.run(
            "/usr/bin/openssl",
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", request,
                "-subj", "/CN=\(hostName)",
            ]
        )
        try Loopback.run(
            "/usr/bin/openssl",
            [
                "x509", "-req", "-in", request, "-CA", certificatePath, "-CAkey", keyPath, "-CAcreateserial", "-out", certificate,
                "-days", "2", "-extfile", extensions,
            ]
        )
        return (certificate, key)
    }
}

/// Bare git repositories served over HTTPS on loopback: Debian's nginx with basic auth in front of git's
/// `git-http-backend`, run through `fcgiwrap`; the TLS certificate comes from a ``TestCertificateAuthority``.
///
/// ```swift
/// let server = try GitHTTPSServer(username: "halyard", token: "s3cret")
/// defer { server.stop() }
/// try Git.run(["clone", "--bare", work.path, server.repositoryPath("flags.git")], in: "/")
/// // https://localhost:<port>/flags.git, trusting server.certificateAuthority.certificatePath
/// ```
public final class GitHTTPSServer {
    /// The host name in URLs: a name, because the certificate cannot be matched by IP address (mbedTLS).
    public static let hostName = "localhost"
    /// The directory everything lives in; removed by ``stop()``.
    public let directory: String
    /// The CA that issued the server's certificate.
    public let certificateAuthority: TestCertificateAuthority
    /// The port nginx listens on, at 127.0.0.1.
    public let port: Int
    private let nginx: LoopbackDaemon
    private let fcgiwrap: LoopbackDaemon

    /// The programs this server needs, each with the Debian package that has it.
    static let requirements = [
        ("/usr/sbin/nginx", "nginx-light"), ("/usr/sbin/fcgiwrap", "fcgiwrap"), ("/usr/lib/git-core/git-http-backend", "git"),
        ("/usr/bin/openssl", "openssl"),
    ]

    /// Why the server cannot run here (a missing program and its package), or nil when it can.
    public static var unavailableReason: String? {
        let missing = requirements.filter { !FileManager.default.isExecutableFile(atPath: $0.0) }
        guard !missing.isEmpty else { return nil }
        return "HTTPS transport test skipped: missing " + missing.map { "\($0.0) (Debian package \($0.1))" }.joined(separator: ", ")
            + "; Scripts/test installs them"
    }

    /// Starts fcgiwrap and nginx; every request needs basic auth as `username` with `token` as the password.
    public init(username: String, token: String) throws {
        if let reason = Self.unavailableReason { throw LoopbackDaemonFailure(message: reason) }
        directory = try TemporaryDirectory.make(prefix: "halyard-https")
        let fileManager = FileManager.default
        for sub in ["repos", "tmp"] { try fileManager.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true) }
        certificateAuthority = try TestCertificateAuthority(in: directory)
        let (certificate, key) = try certificateAuthority.issueServerCertificate(for: Self.hostName)
        try "\(username):{PLAIN}\(token)\n".write(toFile: directory + "/htpasswd", atomically: true, encoding: .utf8)

        let socket = directory + "/fcgiwrap.sock"
        fcgiwrap = try LoopbackDaemon(
            name: "fcgiwrap", executable: "/usr/sbin/fcgiwrap", arguments: ["-s", "unix:" + socket], logPath: directory + "/fcgiwrap.log"
        )
        try fcgiwrap.waitUntil("its socket exists") { fileManager.fileExists(atPath: socket) }

        // A port chosen by the kernel can be taken by someone else before nginx binds it: try a few.
        var lastError: (any Error)?
        var started: (LoopbackDaemon, Int)?
        for _ in 0..<3 where started == nil {
            let port = try Loopback.freePort()
            let config = directory + "/nginx.conf"
            try Self.configuration(directory: directory, port: port, certificate: certificate, key: key, socket: socket)
                .write(toFile: config, atomically: true, encoding: .utf8)
            let daemon = try LoopbackDaemon(
                name: "nginx", executable: "/usr/sbin/nginx", arguments: ["-e", directory + "/error.log", "-p", directory, "-c", config],
                logPath: directory + "/nginx.log"
            )
            do {
                try daemon.waitUntil("listening on 127.0.0.1:\(port)") { Loopback.accepts(port: port) }
                started = (daemon, port)
            } catch {
                daemon.stop()
                lastError = error
            }
        }
        guard let started else {
            fcgiwrap.stop()
            throw lastError ?? LoopbackDaemonFailure(message: "nginx did not start")
        }
        (nginx, port) = started
    }

    /// The path of a (bare) repository the server serves as `https://localhost:<port>/<name>`.
    public func repositoryPath(_ name: String) -> String { directory + "/repos/" + name }

    /// The URL of the repository `name`.
    public func url(_ name: String) -> String { "https://\(Self.hostName):\(port)/\(name)" }

    /// nginx's and fcgiwrap's logs, for a failing test's message.
    public var logs: String {
        let error = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
        return "nginx: \(nginx.log)\(error)\nfcgiwrap: \(fcgiwrap.log)"
    }

    /// Stops nginx and fcgiwrap and removes the directory.
    public func stop() {
        nginx.stop()
        fcgiwrap.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One nginx process (no master, no user switch), TLS with basic auth, every request handed to git-http-backend.
    private static func configuration(directory: String, port: Int, certificate: String, key: String, socket: String) -> String {
        """
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(directory)/nginx.pid;
        error_log \(directory)/error.log info;
        events { worker_connections 64; }
        http {
            access_log \(directory)/access.log;
            client_body_temp_path \(directory)/tmp/body;
            fastcgi_temp_path \(directory)/tmp/fastcgi;
            proxy_temp_path \(directory)/tmp/proxy;
            uwsgi_temp_path \(directory)/tmp/uwsgi;
            scgi_temp_path \(directory)/tmp/scgi;
            server {
                listen 127.0.0.1:\(port) ssl;
                server_name \(hostName);
                ssl_certificate \(certificate);
                ssl_certificate_key \(key);
                location / {
                    auth_basic "halyard test";
                    auth_basic_user_file \(directory)/htpasswd;
                    client_max_body_size 0;
                    fastcgi_pass unix:\(socket);
                    fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
                    fastcgi_param GIT_PROJECT_ROOT \(directory)/repos;
                    fastcgi_param GIT_HTTP_EXPORT_ALL "";
                    fastcgi_param PATH_INFO $uri;
                    fastcgi_param REMOTE_USER $remote_user;
                    fastcgi_param QUERY_STRING $query_string;
                    fastcgi_param REQUEST_METHOD $request_method;
                    fastcgi_param CONTENT_TYPE $content_type;
                    fastcgi_param CONTENT_LENGTH $content_length;
                    fastcgi_param HTTP_GIT_PROTOCOL $http_git_protocol;
                }
            }
        }
        """
    }
}
