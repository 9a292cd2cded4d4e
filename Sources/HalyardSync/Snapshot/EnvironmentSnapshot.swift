import HalyardRules

/// Every flag of one environment at one commit, immutable.
public struct EnvironmentSnapshot: Sendable {
    /// The environment's name (its directory under the flags directory).
    public let name: String
    /// The flags by id.
    public let flags: [String: LoadedFlag]
    /// Flag ids in ascending order, for stable listings.
    public let sortedIDs: [String]
    /// The sum of every flag's digest contribution; a sum, so that one changed flag updates it in O(1).
    private let digestSum: DigestSum
    /// A SHA-256 hash of every flag's id and full fingerprint, in hex: the environment's `ETag`.
    public let digest: String

    /// Creates an environment from its loaded flags, computing the sorted ids and the digest.
    public init(name: String, flags: [String: LoadedFlag]) {
        // Each contribution is eight SHA-256 hashes: summed in chunks on every core for big environments.
        let values = Array(flags.values)
        var sum = DigestSum.zero
        for partial in ParallelChunks.map(values.count, { range in
            var partial = DigestSum.zero
            for index in range { partial.add(values[index].digestContribution) }
            return partial
        }) {
            sum.add(partial.value)
        }
        self.init(name: name, flags: flags, sortedIDs: flags.keys.sorted(), digestSum: sum)
    }

    private init(name: String, flags: [String: LoadedFlag], sortedIDs: [String], digestSum: DigestSum) {
        self.name = name
        self.flags = flags
        self.sortedIDs = sortedIDs
        self.digestSum = digestSum
        self.digest = digestSum.hex
    }

    /// The flag with this id, if the environment has it.
    public func flag(_ id: String) -> Flag? { flags[id]?.flag }

    /// This environment with some flags removed and some added or replaced, in time proportional to the change;
    /// nil when no flag is left.
    func updated(removing removed: Set<String>, adding added: [String: LoadedFlag]) -> EnvironmentSnapshot? {
        var flags = self.flags
        var sortedIDs = self.sortedIDs
        var digestSum = self.digestSum
        for id in removed where added[id] == nil {
            guard let old = flags.removeValue(forKey: id) else { continue }
            digestSum.subtract(old.digestContribution)
            if let index = sortedIDs.sortedIndex(of: id), index < sortedIDs.count, sortedIDs[index] == id {
                sortedIDs.remove(at: index)
            }
        }
        for (id, flag) in added {
            if let old = flags.updateValue(flag, forKey: id) {
                digestSum.subtract(old.digestContribution)
            } else if let index = sortedIDs.sortedIndex(of: id) {
                sortedIDs.insert(id, at: index)
            }
            digestSum.add(flag.digestContribution)
        }
        if flags.isEmpty { return nil }
        return EnvironmentSnapshot(name: name, flags: flags, sortedIDs: sortedIDs, digestSum: digestSum)
    }
}

extension Array where Element == String {
    /// The index where `value` is or would be inserted in this ascending array.
    fileprivate func sortedIndex(of value: String) -> Int? {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
