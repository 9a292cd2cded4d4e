/// Which flags an audit trail follows.
public enum HistorySelection: Sendable, Equatable {
    /// One flag of one environment.
    case flag(environment: String, id: String)
    /// Every flag of one environment.
    case environment(String)
    /// Every flag.
    case all
}
