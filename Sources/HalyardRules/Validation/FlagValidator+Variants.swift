/// Validation of typed flags: `variants`, `defaultVariant` and rule groups as objects (DESIGN §1 "Typed flags").
extension FlagValidator {
    static let maximumVariants = 64
    static let groupKeys = ["when", "serve", "split"]
    static let splitKeys = ["attribute", "variants"]
    static let allocationKeys = ["variant", "percentage"]

    /// The targeting of a typed flag, or `nil` after reporting every problem.
    mutating func typedTargeting(_ members: [String: JSONValue]) -> Targeting? {
        let errorsBefore = errorCount
        let variantsValue = members["variants"]!
        let variants = self.variants(variantsValue)
        // Names are checked against the keys even when a value is bad, so that every error shows at once.
        let names = Set(variantsValue.objectValue?.keys ?? [:].keys)
        var defaultVariant: String?
        if let value = members["defaultVariant"] {
            defaultVariant = variantReference(value, at: "/defaultVariant", key: "defaultVariant", names: names, checkNames: variantsValue.objectValue != nil)
        } else {
            let first = variants?.names.first.map { #"add "defaultVariant": "\#($0)""# } ?? #"add "defaultVariant": name"#
            error("", #"missing required key "defaultVariant""#, hint: "\(first): it is served when the flag is inactive and when no group matches")
        }
        var groups: [RuleGroup] = []
        if let value = members["rules"] {
            groups = self.groups(value, names: names, checkNames: variantsValue.objectValue != nil)
        } else {
            error("", #"missing required key "rules""#, hint: #"add "rules": [] to serve "defaultVariant" to everybody"#)
        }
        guard errorCount == errorsBefore, let variants, let defaultVariant else { return nil }
        return .typed(variants: variants, defaultVariant: defaultVariant, groups: groups)
    }

    // MARK: - Variants

    private mutating func variants(_ value: JSONValue) -> Variants? {
        guard case .object(let members) = value else {
            error(
                "/variants", #""variants" must be an object of variant names and values, not \#(value.typeDescription)"#,
                hint: #"write "variants": {"classic": "classic", "one-page": "one-page"}"#)
            return nil
        }
        let errorsBefore = errorCount
        if members.isEmpty {
            error("/variants", #""variants" must have at least one variant"#, hint: #"write "variants": {"on": true, "off": false}, or remove "variants" for a boolean flag"#)
        } else if members.count > Self.maximumVariants {
            error("/variants", #""variants" has \#(members.count) variants; at most \#(Self.maximumVariants) are allowed"#, hint: nil)
        }
        let variants = Variants(members)
        var firstOfKind: (name: String, kind: Variants.Kind)?
        for name in variants.names {
            let pointer = JSONPointer.appending(name, to: "/variants")
            if !Self.isVariantName(name) {
                error(
                    pointer, "invalid variant name \"\(name)\"",
                    hint: "a variant name starts with a letter or digit and has at most 64 letters, digits, '.', '_' or '-'")
            }
            let value = members[name]!
            guard let kind = Variants.Kind(of: value) else {
                error(pointer, "a variant's value must not be null", hint: "serve a boolean, string, number or object")
                continue
            }
            if let first = firstOfKind {
                if first.kind != kind {
                    error(
                        pointer, "variant \"\(name)\" is \(value.typeDescription), but \"\(first.name)\" is \(Self.article(first.kind))",
                        hint: "all variants of a flag have one kind (boolean, string, number or object)")
                }
            } else {
                firstOfKind = (name, kind)
            }
        }
        return errorCount == errorsBefore ? variants : nil
    }

    private static func article(_ kind: Variants.Kind) -> String {
        switch kind {
        case .boolean: "a boolean"
        case .string: "a string"
        case .number: "a number"
        case .object: "an object or array"
        }
    }

    /// Whether `name` matches `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
    static func isVariantName(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard let first = utf8.first, utf8.count <= 64, isAlphanumeric(first) else { return false }
        return utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// A variant name used by `defaultVariant`, `serve` or a split: a string naming one of `names`.
    private mutating func variantReference(_ value: JSONValue, at pointer: String, key: String, names: Set<String>, checkNames: Bool) -> String? {
        guard case .string(let name) = value else {
            error(pointer, "\"\(key)\" must be a variant name (a string), not \(value.typeDescription)", hint: nil)
            return nil
        }
        guard !checkNames || names.contains(name) else {
            let sorted = names.sorted()
            let hint: String
            if let suggestion = Suggestion.closest(to: name, among: sorted) {
                hint = "did you mean \"\(suggestion)\"?"
            } else {
                hint = "the variants are \(Suggestion.list(sorted))"
            }
            error(pointer, "unknown variant \"\(name)\"", hint: hint)
            return nil
        }
        return name
    }

    // MARK: - Groups

    private mutating func groups(_ value: JSONValue, names: Set<String>, checkNames: Bool) -> [RuleGroup] {
        guard case .array(let elements) = value else {
            error(
                "/rules", "\"rules\" must be an array of rule groups, not \(value.typeDescription)",
                hint: #"write "rules": [{"when": [...], "serve": "name"}]"#)
            return []
        }
        var groups: [RuleGroup] = []
        for (index, element) in elements.enumerated() {
            let pointer = JSONPointer.appending(index, to: "/rules")
            guard case .object(let members) = element else {
                let hint: String? =
                    if case .array = element { #"write the group as {"when": [rule, ...], "serve": "name"}"# } else { nil }
                error(pointer, "a typed flag's rule group must be an object with \"when\" and \"serve\" or \"split\", not \(element.typeDescription)", hint: hint)
                continue
            }
            if let group = group(members, at: pointer, names: names, checkNames: checkNames) { groups.append(group) }
        }
        return groups
    }

    private mutating func group(_ members: [String: JSONValue], at pointer: String, names: Set<String>, checkNames: Bool) -> RuleGroup? {
        let errorsBefore = errorCount
        for key in members.keys.sorted() where !Self.groupKeys.contains(key) {
            let hint: String? = members["type"] != nil ? #"a typed flag's group holds its rules in "when": {"when": [rule], "serve": "name"}"# : nil
            if let hint {
                error(JSONPointer.appending(key, to: pointer), "unknown key \"\(key)\"", hint: hint)
            } else {
                unknownKey(key, at: JSONPointer.appending(key, to: pointer), candidates: Self.groupKeys, context: "a rule group")
            }
        }
        var when: [Rule] = []
        if let value = members["when"] {
            if case .array(let rules) = value {
                for (index, ruleValue) in rules.enumerated() {
                    if let rule = rule(ruleValue, at: JSONPointer.appending(index, to: pointer + "/when")) { when.append(rule) }
                }
            } else {
                error(pointer + "/when", "\"when\" must be an array of rules, not \(value.typeDescription)", hint: #"write "when": [] to match everybody"#)
            }
        } else {
            error(pointer, #"missing required key "when""#, hint: #"add "when": [] to match everybody, or the rules that must all be true"#)
        }
        var outcome: RuleGroup.Outcome?
        switch (members["serve"], members["split"]) {
        case (let serve?, nil):
            outcome = variantReference(serve, at: pointer + "/serve", key: "serve", names: names, checkNames: checkNames).map { .serve($0) }
        case (nil, let split?):
            outcome = self.split(split, at: pointer + "/split", names: names, checkNames: checkNames).map { .split($0) }
        case (.some, .some):
            error(pointer, #"a rule group has either "serve" or "split", not both"#, hint: #"remove "serve" to split users, or "split" to serve one variant"#)
        case (nil, nil):
            error(pointer, #"a rule group needs "serve" or "split""#, hint: #"add "serve": "name" to serve one variant to the group"#)
        }
        guard errorCount == errorsBefore, let outcome else { return nil }
        return RuleGroup(when: when, outcome: outcome)
    }

    private mutating func split(_ value: JSONValue, at pointer: String, names: Set<String>, checkNames: Bool) -> Split? {
        let example = #"write "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": 50}, {"variant": "b", "percentage": 50}]}"#
        guard case .object(let members) = value else {
            error(pointer, "\"split\" must be an object, not \(value.typeDescription)", hint: example)
            return nil
        }
        let errorsBefore = errorCount
        for key in members.keys.sorted() where !Self.splitKeys.contains(key) {
            unknownKey(key, at: JSONPointer.appending(key, to: pointer), candidates: Self.splitKeys, context: "a split")
        }
        let attribute = attributeName(members["attribute"], at: pointer, required: true)
        var allocations: [Split.Allocation] = []
        if let value = members["variants"] {
            allocations = self.allocations(value, at: pointer + "/variants", names: names, checkNames: checkNames)
        } else {
            error(pointer, #"missing required key "variants""#, hint: example)
        }
        guard errorCount == errorsBefore, let attribute else { return nil }
        return Split(attribute: attribute, allocations: allocations)
    }

    private mutating func allocations(_ value: JSONValue, at pointer: String, names: Set<String>, checkNames: Bool) -> [Split.Allocation] {
        guard case .array(let elements) = value, !elements.isEmpty else {
            error(
                pointer, "the split's \"variants\" must be a non-empty array of {\"variant\", \"percentage\"}, not \(value.typeDescription)",
                hint: #"write [{"variant": "a", "percentage": 50}, {"variant": "b", "percentage": 50}]"#)
            return []
        }
        let errorsBefore = errorCount
        var allocations: [Split.Allocation] = []
        var seen: Set<String> = []
        for (index, element) in elements.enumerated() {
            let itemPointer = JSONPointer.appending(index, to: pointer)
            guard case .object(let members) = element else {
                error(itemPointer, "a split share must be an object {\"variant\", \"percentage\"}, not \(element.typeDescription)", hint: nil)
                continue
            }
            for key in members.keys.sorted() where !Self.allocationKeys.contains(key) {
                unknownKey(key, at: JSONPointer.appending(key, to: itemPointer), candidates: Self.allocationKeys, context: "a split share")
            }
            var variant: String?
            if let value = members["variant"] {
                variant = variantReference(value, at: itemPointer + "/variant", key: "variant", names: names, checkNames: checkNames)
                if let variant, !seen.insert(variant).inserted {
                    error(itemPointer + "/variant", "variant \"\(variant)\" appears twice in the split", hint: "give each variant one share")
                }
            } else {
                error(itemPointer, #"missing required key "variant""#, hint: "name the variant that gets this share")
            }
            var basisPoints: Int?
            if let value = members["percentage"] {
                basisPoints = self.basisPoints(value, at: itemPointer + "/percentage")
            } else {
                error(itemPointer, #"missing required key "percentage""#, hint: #"add "percentage": 50 for half of the group"#)
            }
            if let variant, let basisPoints { allocations.append(Split.Allocation(variant: variant, basisPoints: basisPoints)) }
        }
        if errorCount == errorsBefore {
            let total = allocations.reduce(0) { $0 + $1.basisPoints }
            if total != 10_000 {
                error(
                    pointer, "the split's percentages add up to \(JSONNumberFormatting.shortest(Double(total) / 100)), not 100",
                    hint: "make the shares add up to exactly 100")
            }
        }
        return allocations
    }
}
