import Synchronization

/// An attribute name with its hash worked out once.
///
/// Compiled rules hold keys, and ``EvaluationContext`` indexes attributes by the same hash, so looking an attribute
/// up during evaluation costs an integer mask and one string comparison, not a string hash. The hash is Swift's
/// per-process seeded `Hasher`, so request-supplied attribute names cannot be chosen to collide.
struct AttributeKey: Sendable, Hashable {
    let name: String
    let hash: Int

    init(_ name: String) {
        self.name = name
        var hasher = Hasher()
        hasher.combine(name)
        hash = hasher.finalize()
    }
}

/// A user attribute prepared for every kind of rule.
///
/// Only what every request may need is prepared up front: the scalar form for comparisons. The items that `has`
/// searches (a comma-separated string's, or an array's) are not split out: a `has` rule scans them in place when it is
/// evaluated (``ListScan``), so a context of long lists costs nothing until a rule asks, and then allocates nothing.
struct PreparedAttribute: Sendable {
    /// The attribute as given (sticky buckets hash it with its case; `has` scans its items).
    let value: JSONValue
    /// Whether ``scalar`` holds the value, i.e. it is a string, number or boolean (not an array or object).
    let isScalar: Bool
    /// The scalar form for comparisons; meaningless unless ``isScalar``.
    let scalar: Scalar
    /// Whether `has` searches the items of ``value`` (an array, object, or a string that is a list); otherwise the
    /// scalar itself is the only item.
    let hasItems: Bool

    init(_ value: JSONValue) {
        self.value = value
        switch value {
        case .array, .object, .null:
            isScalar = false
            scalar = Scalar(bool: false)
            hasItems = true
        case .string(let string):
            isScalar = true
            scalar = Scalar(string: string)
            let utf8 = string.utf8
            if let first = utf8.first, let last = utf8.last {
                hasItems = utf8.contains(UInt8(ascii: ",")) || isEdgeSpace(first) || isEdgeSpace(last)
            } else {
                hasItems = true
            }
        case .number(let number):
            isScalar = true
            scalar = Scalar(number: number.double)
            hasItems = false
        case .bool(let flag):
            isScalar = true
            scalar = Scalar(bool: flag)
            hasItems = false
        }
    }

    /// Whether one of the items `has` searches equals `comparator` (DESIGN §2), scanned in place.
    func itemsContain(_ comparator: UnsafePointer<Scalar>) -> Bool {
        switch value {
        case .string(let text):
            return ListScan.contains(text, comparator)
        case .array(let elements):
            for element in elements where ListScan.equals(element, comparator) { return true }
            return false
        case .object, .null, .number, .bool:
            return false
        }
    }
}

/// Whether a byte may be (the start or end of) white space that list items trim.
private func isEdgeSpace(_ byte: UInt8) -> Bool { byte <= 0x20 || byte >= 0x80 }

/// The prepared attributes of one ``EvaluationContext``: an open-addressing hash table keyed by ``AttributeKey``.
///
/// The table is built once and never changes, and it lives in manually allocated memory so that evaluation reads
/// entries in place, without bounds checks or reference counting. That is why the class is `@unchecked Sendable`:
/// its memory is written only in `init`.
final class AttributeTable: @unchecked Sendable {
    let attributes: [String: JSONValue]
    private let mask: Int
    private let slots: UnsafeMutableBufferPointer<Int32>
    private let keys: UnsafeMutableBufferPointer<AttributeKey>
    private let entries: UnsafeMutableBufferPointer<PreparedAttribute>
    private let count: Int
    /// The user's Semaphore serialisation and the buckets worked out from it, computed on first use.
    private let semaphore = Mutex(SemaphoreBuckets())

    /// Prepares every non-null attribute; null attributes count as missing (DESIGN §2).
    init(_ attributes: [String: JSONValue]) {
        self.attributes = attributes
        var capacity = 8
        while capacity < attributes.count * 2 { capacity *= 2 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0)
        keys = .allocate(capacity: max(attributes.count, 1))
        entries = .allocate(capacity: max(attributes.count, 1))
        var count = 0
        for (name, value) in attributes where !value.isNull {
            let key = AttributeKey(name)
            var slot = key.hash & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            (keys.baseAddress! + count).initialize(to: key)
            (entries.baseAddress! + count).initialize(to: PreparedAttribute(value))
            count += 1
            slots[slot] = Int32(count)
        }
        self.count = count
    }

    deinit {
        keys.baseAddress!.deinitialize(count: count)
        entries.baseAddress!.deinitialize(count: count)
        keys.deallocate()
        entries.deallocate()
        slots.deallocate()
    }

    /// The attribute named by `key`, read in place, or `nil` if the user has no such (non-null) attribute.
    @inline(__always)
    func attribute(_ key: UnsafePointer<AttributeKey>) -> UnsafePointer<PreparedAttribute>? {
        let hash = key.pointee.hash
        var slot = hash & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            let candidate = UnsafePointer(keys.baseAddress! + (entry - 1))
            if candidate.pointee.hash == hash, candidate.pointee.name == key.pointee.name { return UnsafePointer(entries.baseAddress! + (entry - 1)) }
            slot = (slot + 1) & mask
        }
    }

    /// The Semaphore bucket of this user for a `%` rule without `attribute`, serialised as `ruleText`.
    ///
    /// The user's serialisation (the bucket input) is written once per context, on the first such rule, and shared
    /// by every rule of every flag. The bucket depends only on the rule text, that is on the percentage, so each
    /// distinct percentage costs one MD5 per context however many rules and flags use it.
    func semaphoreBucket(ruleKey: Int, ruleText: [UInt8]) -> Double {
        semaphore.withLock { cache in
            if let bucket = cache.buckets[ruleKey] { return bucket }
            if cache.userText == nil {
                var text: [UInt8] = []
                LuceeJSON.deterministicString(attributes, into: &text)
                cache.userText = text
                cache.serialisations += 1
            }
            let bucket = Bucketing.semaphoreBucket(ruleText: ruleText, userText: cache.userText!)
            cache.buckets[ruleKey] = bucket
            cache.hashes += 1
            return bucket
        }
    }

    /// How often this context serialised the user and hashed a rule with it (for tests).
    var semaphoreWork: (serialisations: Int, hashes: Int) {
        semaphore.withLock { ($0.serialisations, $0.hashes) }
    }
}

/// The lazily computed Semaphore state of one context.
struct SemaphoreBuckets {
    /// `structToDeterministicString(user)`, once a rule needed it.
    var userText: [UInt8]?
    /// Buckets by the rule's percentage in basis points.
    var buckets: [Int: Double] = [:]
    var serialisations = 0
    var hashes = 0
}
