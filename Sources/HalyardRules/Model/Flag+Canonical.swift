extension Flag {
    /// Calls `body` with each member of ``normalizedJSON`` in canonical order (keys sorted by their UTF-8 bytes), as
    /// its canonical text `"key":value` (``JSONWriter/appendCanonical(_:to:)``), without building `normalizedJSON`.
    ///
    /// Fingerprints hash this text for every flag of every load. Building the normalised object first made a
    /// dictionary per rule, only to sort its keys again: a tenth of a full load's CPU. Rules, groups and splits have
    /// fixed members, so they are written here in their canonical order directly; free-form parts (`metadata`,
    /// `variants`, comparators) go through ``JSONWriter/appendCanonical(_:to:)``. The bytes are exactly those of
    /// `normalizedJSON`'s members (tests compare them).
    ///
    /// - Parameter body: Called once per member with its key and its text; the text is only valid during the call.
    public func forEachCanonicalMember(_ body: (_ key: String, _ text: [UInt8]) -> Void) {
        var text: [UInt8] = []
        text.reserveCapacity(1024)
        func member(_ key: String, _ write: (inout [UInt8]) -> Void) {
            text.removeAll(keepingCapacity: true)
            JSONWriter.appendQuoted(key, to: &text)
            text.append(UInt8(ascii: ":"))
            write(&text)
            body(key, text)
        }
        // Canonical order: active, baseState | defaultVariant, description, id, metadata, name, rules[, variants].
        let targeting = self.targeting
        member("active") { Self.appendBool(active, to: &$0) }
        switch targeting {
        case .boolean(let baseState, _):
            member("baseState") { Self.appendBool(baseState, to: &$0) }
        case .typed(_, let defaultVariant, _):
            member("defaultVariant") { JSONWriter.appendQuoted(defaultVariant, to: &$0) }
        }
        member("description") { JSONWriter.appendQuoted(description, to: &$0) }
        member("id") { JSONWriter.appendQuoted(id, to: &$0) }
        member("metadata") { JSONWriter.appendCanonical(.object(metadata), to: &$0) }
        member("name") { JSONWriter.appendQuoted(name, to: &$0) }
        switch targeting {
        case .boolean(_, let rules):
            member("rules") { text in
                Self.appendList(rules, to: &text) { group, text in Self.appendList(group, to: &text, Self.appendCanonical(rule:to:)) }
            }
        case .typed(let variants, _, let groups):
            member("rules") { text in Self.appendList(groups, to: &text, Self.appendCanonical(group:to:)) }
            member("variants") { JSONWriter.appendCanonical(.object(variants.values), to: &$0) }
        }
    }

    private static func appendBool(_ value: Bool, to text: inout [UInt8]) {
        text.append(contentsOf: (value ? "true" : "false").utf8)
    }

    private static func appendList<Element>(
        _ elements: [Element], to text: inout [UInt8], _ write: (Element, inout [UInt8]) -> Void
    ) {
        text.append(UInt8(ascii: "["))
        for (offset, element) in elements.enumerated() {
            if offset > 0 { text.append(UInt8(ascii: ",")) }
            write(element, &text)
        }
        text.append(UInt8(ascii: "]"))
    }

    /// `key` as a member name: `"key":`, preceded by a comma unless it is the object's first member.
    private static func appendKey(_ key: StaticString, first: Bool = false, to text: inout [UInt8]) {
        if !first { text.append(UInt8(ascii: ",")) }
        text.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { text.append(contentsOf: $0) }
        text.append(contentsOf: "\":".utf8)
    }

    /// A percentage in basis points as ``Rule/jsonValue`` and ``Split/jsonValue`` write it.
    private static func appendPercentage(_ basisPoints: Int, to text: inout [UInt8]) {
        JSONNumber(Double(basisPoints) / 100).append(to: &text)
    }

    /// ``Rule/jsonValue``'s canonical text: members `attribute`, `comparator`, `operator`, `percentage`, `type`.
    private static func appendCanonical(rule: Rule, to text: inout [UInt8]) {
        text.append(UInt8(ascii: "{"))
        switch rule {
        case .everybody:
            appendKey("type", first: true, to: &text)
            text.append(contentsOf: "\"everybody\"".utf8)
        case .nobody:
            appendKey("type", first: true, to: &text)
            text.append(contentsOf: "\"nobody\"".utf8)
        case .filter(let attribute, let op, let comparator):
            appendKey("attribute", first: true, to: &text)
            JSONWriter.appendQuoted(attribute, to: &text)
            appendKey("comparator", to: &text)
            JSONWriter.appendCanonical(comparator, to: &text)
            appendKey("operator", to: &text)
            JSONWriter.appendQuoted(op.rawValue, to: &text)
            appendKey("type", to: &text)
            text.append(contentsOf: "\"filter\"".utf8)
        case .percentage(let basisPoints, let attribute):
            if let attribute {
                appendKey("attribute", first: true, to: &text)
                JSONWriter.appendQuoted(attribute, to: &text)
            }
            appendKey("percentage", first: attribute == nil, to: &text)
            appendPercentage(basisPoints, to: &text)
            appendKey("type", to: &text)
            text.append(contentsOf: "\"%\"".utf8)
        }
        text.append(UInt8(ascii: "}"))
    }

    /// ``RuleGroup/jsonValue``'s canonical text: `{"serve":…,"when":[…]}` or `{"split":{…},"when":[…]}`.
    private static func appendCanonical(group: RuleGroup, to text: inout [UInt8]) {
        text.append(UInt8(ascii: "{"))
        switch group.outcome {
        case .serve(let variant):
            appendKey("serve", first: true, to: &text)
            JSONWriter.appendQuoted(variant, to: &text)
        case .split(let split):
            appendKey("split", first: true, to: &text)
            text.append(UInt8(ascii: "{"))
            appendKey("attribute", first: true, to: &text)
            JSONWriter.appendQuoted(split.attribute, to: &text)
            appendKey("variants", to: &text)
            appendList(split.allocations, to: &text) { allocation, text in
                text.append(UInt8(ascii: "{"))
                appendKey("percentage", first: true, to: &text)
                appendPercentage(allocation.basisPoints, to: &text)
                appendKey("variant", to: &text)
                JSONWriter.appendQuoted(allocation.variant, to: &text)
                text.append(UInt8(ascii: "}"))
            }
            text.append(UInt8(ascii: "}"))
        }
        appendKey("when", to: &text)
        appendList(group.when, to: &text, appendCanonical(rule:to:))
        text.append(UInt8(ascii: "}"))
    }
}
