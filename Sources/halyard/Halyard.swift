import ArgumentParser

/// The `halyard` command line: validate, evaluate, diff and audit flags in git, and serve them.
@main
struct Halyard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halyard",
        abstract: "GitOps feature flags: flag files in git, validated, diffed, served and pushed to subscribers.",
        discussion: "Exit status: 0 success (validate: valid), 1 invalid flags or a failed command, 2 repository or I/O error, 64 usage error.",
        version: "0.1.0",
        subcommands: [Serve.self, Validate.self, Eval.self, Diff.self, History.self, Stale.self, Override.self]
    )
}
