import ArgumentParser

/// The `halyard` command line: validate, evaluate, diff and audit flags in git, and serve them.
@main
struct Halyard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halyard",
        abstract: "GitOps feature flags: flag files in git, validated, diffed, served and pushed to subscribers.",
        version: "0.1.0",
        subcommands: [Serve.self, Validate.self, Eval.self, Diff.self, History.self]
    )
}
