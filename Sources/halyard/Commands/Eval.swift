import ArgumentParser
import HalyardRules

/// `halyard eval`: evaluates one flag for one user, the same way the service does.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate one flag for a user and print its value as JSON (true, \"one-page\", 10, {…}).",
        discussion: """
            Attributes come from --context (a JSON object) and --attr k=v (repeatable; later wins). \
            A value parses as a JSON scalar when it can (42, true, "x"), else it is a string.
            """
    )

    @Argument(help: "The environment, e.g. production.")
    var environment: String

    @Argument(help: "The flag id, e.g. new-checkout.")
    var flag: String

    @Option(name: .customLong("attr"), help: ArgumentHelp("A user attribute.", valueName: "key=value"))
    var attributes: [String] = []

    @Option(help: ArgumentHelp("User attributes as a JSON object.", valueName: "json"))
    var context: String?

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Read the flag at this revision instead of the working tree.")
    var rev: String?

    @ArgumentParser.Flag(help: "Also print the variant, the reason and the matching rule group.")
    var explain = false

    /// Argument-shape problems are usage errors: argument-parser prints them with the usage and exits 64.
    func validate() throws {
        guard FlagPath.isValidEnvironment(environment) else {
            throw ValidationError("'\(environment)' is not a valid environment name (lower-case letters, digits, - and _)")
        }
        guard FlagPath.isValidFlagID(flag) else {
            throw ValidationError("'\(flag)' is not a valid flag id")
        }
        do {
            _ = try Self.parseContext(context, attributes: attributes)
        } catch let error as CLIError {
            throw ValidationError(error.message)
        }
    }

    func run() throws {
        try reportingErrors {
            let user = try Self.parseContext(context, attributes: attributes)
            guard let file = try repository.flagFile(environment: environment, id: flag, revision: rev) else {
                let place = rev.map { "at \($0)" } ?? "in the working tree"
                throw CLIError(
                    "no flag '\(flag)' in environment '\(environment)' \(place) (\(repository.flagsDirectory)/\(environment)/\(flag).json)"
                )
            }
            let decoded = FlagDecoder.decode(file.bytes, id: flag, file: file.path)
            guard let compiled = decoded.flag else {
                for diagnostic in decoded.diagnostics where diagnostic.severity == .error {
                    printError("error: \(diagnostic)")
                }
                throw CLIError("\(file.path) is invalid; run `halyard validate`")
            }
            let evaluation = compiled.evaluate(EvaluationContext(user))
            print(evaluation.value.jsonText)
            if explain {
                for line in Self.explanation(of: evaluation, flag: compiled) { print(line) }
            }
        }
    }

    /// The lines `--explain` prints after the value: the variant, the reason and, in words, why.
    static func explanation(of evaluation: Evaluation, flag: HalyardRules.Flag) -> [String] {
        var lines = ["variant: \(evaluation.variant ?? "none")", "reason: \(evaluation.reason.rawValue)"]
        let served = evaluation.variant.map { "`\($0)` (\(evaluation.value.jsonText))" } ?? evaluation.value.jsonText
        let fallback = flag.isTyped ? "the default variant \(served)" : "baseState (\(flag.baseState))"
        let groups = flag.groupCount
        let group = (evaluation.matchedGroup ?? 0) + 1
        switch evaluation.reason {
        case .disabled:
            lines.append("the flag is inactive, so every user gets \(fallback)")
        case .staticValue:
            lines.append("the flag has no rule groups, so every user gets \(fallback)")
        case .targetingMatch:
            if flag.isTyped {
                lines.append("group: \(group) of \(groups)")
                lines.append("rule group \(group) of \(groups) matched and serves \(served)")
            } else {
                lines.append("group: \(group) of \(groups)")
                lines.append("rule group \(group) of \(groups) matched, so the user gets !baseState (\(!flag.baseState))")
            }
        case .split:
            lines.append("group: \(group) of \(groups)")
            lines.append("rule group \(group) of \(groups) matched and its split chose \(served)")
        case .default:
            lines.append("no rule group matched (\(groups) group\(groups == 1 ? "" : "s")), so the user gets \(fallback)")
        case .flagNotFound:
            break
        }
        return lines
    }

    /// Builds the user's attributes from `--context` and `--attr` options.
    static func parseContext(_ context: String?, attributes: [String]) throws -> [String: JSONValue] {
        var user: [String: JSONValue] = [:]
        if let context {
            do {
                guard case .object(let object) = try JSONValue.parse(Array(context.utf8)) else {
                    throw CLIError("--context must be a JSON object", exitCode: ExitCode.validationFailure.rawValue)
                }
                user = object
            } catch let error as JSONParseError {
                throw CLIError("--context is not valid JSON: \(error)", exitCode: ExitCode.validationFailure.rawValue)
            }
        }
        for attribute in attributes {
            guard let equals = attribute.firstIndex(of: "="), equals != attribute.startIndex else {
                throw CLIError("--attr takes key=value, got '\(attribute)'", exitCode: ExitCode.validationFailure.rawValue)
            }
            let key = String(attribute[..<equals])
            let raw = String(attribute[attribute.index(after: equals)...])
            if let value = try? JSONValue.parse(Array(raw.utf8)) {
                switch value {
                case .array, .object: user[key] = .string(raw)
                default: user[key] = value
                }
            } else {
                user[key] = .string(raw)
            }
        }
        return user
    }
}
