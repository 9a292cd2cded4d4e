import ArgumentParser

/// How `validate` and `history` print their result: text or JSON.
///
/// Each command's `--format` option has a type with exactly the values it accepts, so `--help` lists only those and
/// argument-parser refuses any other value as a usage error (exit 64). Only `diff` also prints markdown
/// (``DiffFormat``).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// How `diff` prints its result: text, JSON, or markdown for a pull-request comment.
enum DiffFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown
}
