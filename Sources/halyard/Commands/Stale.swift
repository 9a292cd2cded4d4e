import ArgumentParser
import Foundation
import HalyardGit
import HalyardRules
import HalyardSync

/// `halyard stale`: flags unchanged for a long time, serving one value to everybody, or past `metadata.expires`.
struct Stale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List stale flags: unchanged for long, serving one value to everybody, or past metadata.expires.",
        discussion: """
            Reads the git history once (first parents from --rev) for the last effective change of every flag. \
            Exit status: 0 (also when stale flags are found: it is a report), 1 invalid flags or unknown environment, \
            2 repository or I/O error, 64 usage error.
            """
    )

    @Option(name: .customLong("older-than"), help: ArgumentHelp("List flags with no effective change in any environment for this long: a number and d, w or h.", valueName: "age"))
    var olderThan: String = "90d"

    @Option(help: "Look at this environment only.")
    var env: String?

    @Option(help: "Look at the flags of this revision, and the history up to it.")
    var rev: String = "HEAD"

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Output format.")
    var format: StaleFormat = .text

    func validate() throws {
        _ = try StaleAge(olderThan)
    }

    func run() throws {
        try reportingErrors {
            let age = try StaleAge(olderThan)
            let repo = try repository.openRepository()
            let tip = try repository.resolve(rev, in: repo)
            let report: StaleReport
            do {
                report = try StaleScanner(repository: repo, flagsDirectory: repository.flagsDirectory)
                    .report(at: tip, olderThan: age.duration, environment: env)
            } catch let error as StaleError {
                throw CLIError(error.description)
            } catch let error as SnapshotError where error.isInvalidFlagSet {
                let first = error.errors.first.map { "; first: \($0)" } ?? ""
                throw CLIError("the flags at \(rev) are invalid (\(error.errors.count) errors\(first)); run `halyard validate --rev \(rev)`")
            }
            switch format {
            case .text: print(Self.text(report, age: age), terminator: "")
            case .json: print(Self.json(report, age: age))
            case .markdown: print(Self.markdown(report, age: age), terminator: "")
            }
        }
    }

    static func day(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day())
    }

    /// One reason in words: `unchanged since 2026-03-02 (1a2b3c4)`, `serves false to everybody (inactive)`, …
    static func words(_ reason: StaleReason) -> String {
        switch reason {
        case .unchanged(let since, let commit):
            return "unchanged since \(day(since)) (\(commit.prefix(7)))"
        case .oneValue(let uniform):
            let value = uniform.variant.map { "variant \($0)" } ?? uniform.value.jsonText
            return "serves \(value) to everybody (\(uniform.reason.rawValue))"
        case .expired(.malformed(let text)):
            return "metadata.expires \(text) is not an ISO date"
        case .expired(let expiry):
            return "expired on \(expiry.text)"
        }
    }

    static func summary(_ report: StaleReport, age: StaleAge) -> String {
        let flags = "\(report.flagCount) flag\(report.flagCount == 1 ? "" : "s") in \(report.environments.count) environment\(report.environments.count == 1 ? "" : "s")"
        let stale = report.findings.isEmpty ? "no stale flags" : "\(report.findings.count) stale"
        return "\(stale) of \(flags) at \(report.commit.prefix(7)) (unchanged for \(age.text): no effective change since \(day(report.cutoff)))"
    }

    static func text(_ report: StaleReport, age: StaleAge) -> String {
        let width = report.findings.map { $0.environment.count + 1 + $0.flag.count }.max() ?? 0
        var out = ""
        for finding in report.findings {
            let name = finding.environment + "/" + finding.flag
            out += name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + finding.reasons.map(words).joined(separator: "; ") + "\n"
        }
        return out + summary(report, age: age) + "\n"
    }

    static func markdown(_ report: StaleReport, age: StaleAge) -> String {
        var out = "### Halyard: stale flags at `\(report.commit.prefix(7))`\n\n"
        if report.findings.isEmpty { return out + summary(report, age: age) + ".\n" }
        out += "| environment | flag | why |\n|---|---|---|\n"
        for finding in report.findings {
            let why = finding.reasons.map(words).joined(separator: "; ").replacing("|", with: "\\|")
            out += "| \(finding.environment) | `\(finding.flag)` | \(why) |\n"
        }
        return out + "\n" + summary(report, age: age) + ".\n"
    }

    /// `{"commit", "now", "olderThan", "cutoff", "environments", "flags", "stale": [{"environment", "flag", "file",
    /// "reasons": [{"kind", …}]}]}`.
    static func json(_ report: StaleReport, age: StaleAge) -> String {
        var json = JSONWriter(capacity: 256 + report.findings.count * 192)
        json.objectStart()
        json.key("commit")
        json.string(report.commit)
        json.key("now")
        json.string(report.now.formatted(.iso8601))
        json.key("olderThan")
        json.string(age.text)
        json.key("cutoff")
        json.string(report.cutoff.formatted(.iso8601))
        json.key("environments")
        json.strings(report.environments)
        json.key("flags")
        json.int(report.flagCount)
        json.key("stale")
        json.arrayStart()
        for finding in report.findings {
            json.objectStart()
            json.key("environment")
            json.string(finding.environment)
            json.key("flag")
            json.string(finding.flag)
            json.key("file")
            json.string(finding.file)
            json.key("reasons")
            json.arrayStart()
            for reason in finding.reasons {
                json.objectStart()
                json.key("kind")
                json.string(reason.kind)
                switch reason {
                case .unchanged(let since, let commit):
                    json.key("lastChange")
                    json.string(since.formatted(.iso8601))
                    json.key("commit")
                    json.string(commit)
                case .oneValue(let uniform):
                    json.key("why")
                    json.string(uniform.reason.rawValue)
                    json.key("value")
                    json.json(uniform.value)
                    if let variant = uniform.variant {
                        json.key("variant")
                        json.string(variant)
                    }
                case .expired(let expiry):
                    json.key("expires")
                    json.string(expiry.text)
                }
                json.objectEnd()
            }
            json.arrayEnd()
            json.objectEnd()
        }
        json.arrayEnd()
        json.objectEnd()
        return json.text
    }
}

/// How `stale` prints its report: text, JSON, or markdown for an issue or a pull request.
enum StaleFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown
}

/// `--older-than`: a whole number of days, weeks or hours (`90d`, `12w`, `36h`).
struct StaleAge {
    let count: Int
    let unit: Character

    init(_ text: String) throws {
        let usage = "--older-than is a whole number and a unit d (days), w (weeks) or h (hours), such as 90d, 12w or 36h; got '\(text)'"
        guard let unit = text.last, "dwh".contains(unit), let count = Int(text.dropLast()), count > 0, count <= 100_000 else {
            throw ValidationError(usage)
        }
        self.count = count
        self.unit = unit
    }

    var text: String { "\(count)\(unit)" }

    var duration: Duration {
        let hours = switch unit {
        case "w": count * 7 * 24
        case "d": count * 24
        default: count
        }
        return .seconds(hours * 3_600)
    }
}
