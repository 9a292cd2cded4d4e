/// A flag's rules compiled for evaluation.
///
/// Compilation happens once, when a flag is decoded: comparator strings are lower-cased, numeric strings parsed,
/// `in` lists turned into lookup sets, attribute names hashed, the sticky hash prefix `"<flagId>:"` pre-hashed and the
/// Semaphore rule text pre-serialised. Evaluating a rule then does no parsing and, except for Semaphore-compatible
/// `%` rules on their first use per context, no allocation.
///
/// Rules live in one flat, manually allocated buffer that evaluation reads in place through pointers, so that no
/// rule is copied (and none of its strings retained) per evaluation. The class is `@unchecked Sendable` because that
/// memory is written only in `init`.
final class CompiledRules: @unchecked Sendable {
    /// Every rule of every group, in order.
    private let rules: UnsafeMutableBufferPointer<CompiledRule>
    /// For each group, the index in ``rules`` just past its last rule.
    private let groupEnds: [Int]
    /// The sticky hash of `"<flagId>:"`, which every sticky `%` rule of the flag continues with the user's value.
    private let stickyPrefix: MurmurHash3x86_32

    init(flagID: String, rules: [[Rule]]) {
        var prefix = MurmurHash3x86_32()
        prefix.combine(flagID.utf8)
        prefix.combine(UInt8(ascii: ":"))
        stickyPrefix = prefix
        let flat = rules.flatMap { group in group.map { CompiledRule($0) } }
        self.rules = .allocate(capacity: max(flat.count, 1))
        _ = self.rules.initialize(from: flat)
        var ends: [Int] = []
        var end = 0
        for group in rules {
            end += group.count
            ends.append(end)
        }
        groupEnds = ends
    }

    deinit {
        rules.baseAddress!.deinitialize(count: groupEnds.last ?? 0)
        rules.deallocate()
    }

    /// Whether there are no groups at all (`"rules": []`).
    var isEmpty: Bool { groupEnds.isEmpty }

    /// The index of the first group at or after `first` whose rules are all true, if any.
    @inline(__always)
    func firstMatchingGroup(_ context: EvaluationContext, from first: Int = 0) -> Int? {
        let table = context.table
        let prefix = stickyPrefix
        let base = rules.baseAddress!
        var start = first == 0 ? 0 : groupEnds[first - 1]
        for group in first..<groupEnds.count {
            let end = groupEnds[group]
            var index = start
            while index < end, CompiledRule.matches(base + index, table, stickyPrefix: prefix) { index += 1 }
            if index == end { return group }
            start = end
        }
        return nil
    }
}

/// One rule, ready to evaluate.
///
/// A plain struct rather than an enum with payloads, so that evaluation reads the fields it needs in place instead of
/// copying a payload out (and retaining its strings) for every rule.
struct CompiledRule: Sendable {
    enum Kind: UInt8, Sendable {
        case constant
        case comparison
        case membership
        case has
        case sticky
        case semaphore
    }

    // Declared in this order so that nothing is padded: 96 bytes a rule. A big flag set has a few rules per flag,
    // and at 144 bytes each they were a fifth of a 30,000-flag snapshot. What only one kind needs is not kept per
    // rule: the sticky prefix is the flag's (``CompiledRules``), and a Semaphore rule's threshold follows from its
    // basis points.
    private(set) var kind = Kind.constant
    /// The value of a constant rule (`everybody`, `nobody`, or a filter that can never match).
    private(set) var constant = false
    private(set) var op = RuleOperator.equal
    /// Sticky rules: the share, 0…10,000. Semaphore rules: the percentage in basis points, which alone determines
    /// ``ruleText`` and the threshold: the key of a context's bucket cache.
    private(set) var basisPoints: Int32 = 0
    private(set) var key = AttributeKey("")
    private(set) var comparator = Scalar(bool: false)
    private(set) var list = MembershipList(.null)
    /// `[{"percentage":P},{"type":"%"}]` as Semaphore serialises the rule.
    private(set) var ruleText: [UInt8] = []

    private init(constant: Bool) {
        self.constant = constant
    }

    init(_ rule: Rule) {
        switch rule {
        case .everybody:
            self = CompiledRule(constant: true)
        case .nobody:
            self = CompiledRule(constant: false)
        case .filter(let attribute, let op, let comparator):
            switch op {
            case .in:
                kind = .membership
                list = MembershipList(comparator)
            case .has:
                // `has` needs a scalar comparator; anything else never matches.
                guard let scalar = Scalar(comparator) else {
                    self = CompiledRule(constant: false)
                    return
                }
                kind = .has
                self.comparator = scalar
            default:
                // An array, object or null comparator makes `==` … `>=` false.
                guard let scalar = Scalar(comparator) else {
                    self = CompiledRule(constant: false)
                    return
                }
                kind = .comparison
                self.comparator = scalar
            }
            self.op = op
            key = AttributeKey(attribute)
        case .percentage(let basisPoints, let attribute):
            if let attribute {
                kind = .sticky
                key = AttributeKey(attribute)
                self.basisPoints = Int32(min(max(basisPoints, 0), 10_000))
            } else {
                // The rule object as the file has it, `{"type": "%", "percentage": P}`, and Lucee's `P / 100`.
                kind = .semaphore
                self.basisPoints = Int32(clamping: basisPoints)
                LuceeJSON.deterministicString(
                    ["type": "%", "percentage": .number(JSONNumber(Self.percentage(self.basisPoints)))], into: &ruleText)
            }
        }
    }

    /// Whether the rule at `rule` is true for the attributes in `table`. Fields are read in place.
    @inline(__always)
    static func matches(_ rule: UnsafePointer<CompiledRule>, _ table: AttributeTable, stickyPrefix: MurmurHash3x86_32) -> Bool {
        switch rule.pointee.kind {
        case .constant:
            return rule.pointee.constant
        case .comparison:
            guard let attribute = table.attribute(rule.pointer(to: \.key)!), attribute.pointee.isScalar else { return false }
            return Scalar.compare(attribute.pointer(to: \.scalar)!, rule.pointee.op, rule.pointer(to: \.comparator)!)
        case .membership:
            guard let attribute = table.attribute(rule.pointer(to: \.key)!), attribute.pointee.isScalar else { return false }
            return rule.pointee.list.contains(attribute.pointer(to: \.scalar)!)
        case .has:
            guard let attribute = table.attribute(rule.pointer(to: \.key)!) else { return false }
            let comparator = rule.pointer(to: \.comparator)!
            guard attribute.pointee.hasItems else { return Scalar.equal(attribute.pointer(to: \.scalar)!, comparator) }
            return attribute.pointee.itemsContain(comparator)
        case .sticky:
            guard let attribute = table.attribute(rule.pointer(to: \.key)!) else { return false }
            var hasher = stickyPrefix
            guard StickyText.combine(attribute.pointee.value, into: &hasher) else { return false }
            return hasher.finalize() % 10_000 < UInt32(rule.pointee.basisPoints)
        case .semaphore:
            let basisPoints = rule.pointee.basisPoints
            let bucket = table.semaphoreBucket(ruleKey: Int(basisPoints), ruleText: rule.pointee.ruleText)
            // `P / 100`, as Lucee computes it.
            return bucket <= Self.percentage(basisPoints) / 100
        }
    }
}

extension CompiledRule {
    /// A Semaphore rule's percentage, `basisPoints / 100`, as its file gives it.
    @inline(__always)
    fileprivate static func percentage(_ basisPoints: Int32) -> Double {
        Double(basisPoints) / 100
    }
}

/// The items of an `in` comparator, arranged for quick lookup by kind.
///
/// Numbers and numeric strings go into one number set (`"42"` and `42` are the same item); other strings are
/// lower-cased; booleans and the strings `"true"`/`"false"` mark both the boolean and the string forms.
struct MembershipList: Sendable {
    /// A few items are compared one by one; more are looked up in a set. One of the two, so that a list takes
    /// 8 bytes per kind in every rule.
    private enum Items<Item: Hashable & Sendable>: Sendable {
        case few([Item])
        case many(Set<Item>)

        init(_ items: [Item]) {
            self = items.count > MembershipList.linearLimit ? .many(Set(items)) : .few(items)
        }
    }

    private let strings: Items<String>
    private let numbers: Items<Double>
    private var containsTrue = false
    private var containsFalse = false

    private static let linearLimit = 8

    /// Builds the list from an array of scalars or a comma-separated string; a single number or boolean is a list
    /// of one. Null, nested arrays and objects never match.
    init(_ comparator: JSONValue) {
        let items: [Scalar]
        switch comparator {
        case .array(let elements): items = elements.compactMap(Scalar.init)
        case .string(let text): items = Scalar.listItems(text)
        case .number, .bool: items = [Scalar(comparator)!]
        case .null, .object: items = []
        }
        var strings: [String] = []
        var numbers: [Double] = []
        for item in items {
            switch item.kind {
            case .number:
                numbers.append(item.number)
            case .bool:
                if item.truth == .isTrue { containsTrue = true } else { containsFalse = true }
                strings.append(item.truth == .isTrue ? "true" : "false")
            case .string:
                if item.isNumeric {
                    numbers.append(item.number + 0.0)
                } else {
                    strings.append(item.folded)
                    if item.truth == .isTrue { containsTrue = true }
                    if item.truth == .isFalse { containsFalse = true }
                }
            }
        }
        self.strings = Items(strings)
        self.numbers = Items(numbers)
    }

    @inline(__always)
    func contains(_ scalar: UnsafePointer<Scalar>) -> Bool {
        switch scalar.pointee.kind {
        case .bool:
            return scalar.pointee.truth == .isTrue ? containsTrue : containsFalse
        case .number:
            return containsNumber(scalar.pointee.number)
        case .string:
            if scalar.pointee.isNumeric, containsNumber(scalar.pointee.number) { return true }
            switch strings {
            case .many(let set):
                return set.contains(scalar.pointee.folded)
            case .few(let strings):
                return strings.withUnsafeBufferPointer { strings in
                    for index in strings.indices where strings[index] == scalar.pointee.folded { return true }
                    return false
                }
            }
        }
    }

    @inline(__always)
    private func containsNumber(_ number: Double) -> Bool {
        switch numbers {
        case .many(let set):
            return set.contains(number + 0.0)
        case .few(let numbers):
            for candidate in numbers where candidate == number { return true }
            return false
        }
    }
}
