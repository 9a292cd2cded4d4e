import ArgumentParser
import Foundation
import HalyardGit
import HalyardSync

/// A failure the CLI reports as one clear line and a non-zero exit status.
///
/// Exit statuses: 1 for an invalid flag set or a failed command (an unknown flag in `eval`), 2 for a repository or
/// I/O error (no such directory, not a git repository, unknown revision, unreadable config), and 64 for a usage
/// error (`ExitCode.validationFailure`, EX_USAGE), which argument-parser also uses for a malformed command line.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    let exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }

    /// Wraps a git error: a bad repository or revision is a repository error (exit 2).
    static func git(_ error: GitError) -> CLIError {
        CLIError(error.description, exitCode: 2)
    }
}

extension ParsableCommand {
    /// Runs `body`, turning `CLIError`s into `error: …` on standard error and their exit status.
    func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CLIError {
            printError("error: \(error.message)")
            throw ExitCode(error.exitCode)
        } catch let error as GitError {
            printError("error: \(error.description)")
            throw ExitCode(2)
        } catch let error as SnapshotError {
            printError("error: \(error.description)")
            throw ExitCode(error.isInvalidFlagSet ? 1 : 2)
        }
    }
}

/// Writes one line to standard error.
func printError(_ line: String) {
    var standardError = StandardError()
    print(line, to: &standardError)
}

/// Standard error as a `TextOutputStream`.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
