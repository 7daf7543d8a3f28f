import NIOCore
import PluginAPI

/// The timers of RFC 3261 section 17 (table 4 in appendix A), named as the RFC names them so logs and tests can be
/// read against the figures.
// swift-format-ignore: AlwaysUseLowerCamelCase
public enum TransactionTimer: String, Hashable, Sendable, CaseIterable {
    case A, B, D, E, F, G, H, I, J, K

    /// Every timer in declaration order, made once: `allCases` builds a new array on each use.
    static let ordered = allCases

    /// The timer's place in `ordered`, for `TimerSlots`.
    var slot: Int {
        switch self {
        case .A: 0
        case .B: 1
        case .D: 2
        case .E: 3
        case .F: 4
        case .G: 5
        case .H: 6
        case .I: 7
        case .J: 8
        case .K: 9
        }
    }
}
