/// Finds the valid name that a misspelt one most likely meant, for `did you mean "baseState"?` hints.
///
/// The flag validator uses it for keys, rule types and operators; the CLI for configuration keys and environment
/// variables. Both measure typos with the same ``editDistance(_:_:)``.
public enum Suggestion {
    /// Common words for flag fields that other feature-flag tools use.
    private static let synonyms: [String: String] = [
        "enabled": "active", "enable": "active", "on": "active", "status": "active",
        "default": "baseState", "defaultvalue": "baseState", "defaultstate": "baseState", "base": "baseState",
        "conditions": "rules", "targeting": "rules", "rule": "rules",
        "title": "name", "displayname": "name", "desc": "description",
        "meta": "metadata", "tags": "metadata", "labels": "metadata",
        "kind": "type", "attr": "attribute", "key": "attribute", "property": "attribute", "field": "attribute",
        "op": "operator", "comparison": "operator", "value": "comparator", "values": "comparator",
        "percent": "percentage", "rollout": "percentage", "weight": "percentage", "matchrule": "matchRules",
    ]

    /// The candidate closest to `word` ignoring case, if it is close enough to be a plausible typo.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let folded = word.lowercased()
        if let synonym = synonyms[folded], candidates.contains(synonym) { return synonym }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let target = candidate.lowercased()
            let distance = editDistance(Array(folded), Array(target))
            let limit = target.count >= 6 ? 2 : (target.count >= 3 ? 1 : 0)
            let isPrefix = folded.count >= 3 && target.hasPrefix(folded)
            guard distance <= limit || isPrefix else { continue }
            let score = isPrefix ? min(distance, limit) : distance
            if best == nil || score < best!.distance { best = (candidate, score) }
        }
        return best?.candidate
    }

    /// The candidate nearest to `word` ignoring case, however far it is; the first of equally near ones; `nil` only
    /// when there is no candidate.
    ///
    /// ```swift
    /// Suggestion.nearest(to: "repo.polInterval", among: ["repo.pollInterval", "repo.branch"])   // "repo.pollInterval"
    /// ```
    public static func nearest(to word: String, among candidates: some Sequence<String>) -> String? {
        let folded = Array(word.lowercased())
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(folded, Array(candidate.lowercased()))
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// The optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions.
    static func editDistance(_ lhs: [Character], _ rhs: [Character]) -> Int {
        if lhs.isEmpty { return rhs.count }
        if rhs.isEmpty { return lhs.count }
        var previousPrevious = [Int](repeating: 0, count: rhs.count + 1)
        var previous = Array(0...rhs.count)
        var current = [Int](repeating: 0, count: rhs.count + 1)
        for i in 1...lhs.count {
            current[0] = i
            for j in 1...rhs.count {
                let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, lhs[i - 1] == rhs[j - 2], lhs[i - 2] == rhs[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[rhs.count]
    }

    /// `"a", "b" and "c"`, for hints that list the valid names.
    static func list(_ names: [String], conjunction: String = "and") -> String {
        let quoted = names.map { "\"\($0)\"" }
        guard quoted.count > 1 else { return quoted.first ?? "" }
        return quoted.dropLast().joined(separator: ", ") + " \(conjunction) " + quoted.last!
    }
}
