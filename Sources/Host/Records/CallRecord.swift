import Foundation
import PluginAPI

/// One call as operators look it up later (the call records store) and as the setup and end log lines tell it:
/// both legs' Call-IDs, where it came from, the route, every target tried in order with its answer, the numbers
/// before and after translation, the times, who hung up and the final status.
public struct CallRecord: Sendable, Equatable {
    public struct Attempt: Sendable, Equatable {
        public var peer: String
        /// The target's final answer; 0 when it was skipped because health checks had it down, 408 for no
        /// answer, 503 when it could not be reached.
        public var status: Int
        public var bCallID: String?
        /// The numbers as this target received them (after its adapter).
        public var calledNumber: String?
        public var callerNumber: String?
        /// Why Patchbay itself gave up on this target, when it did (its codec policy left no audio codec).
        public var note: String?

        public init(
            peer: String, status: Int, bCallID: String? = nil, calledNumber: String? = nil, callerNumber: String? = nil,
            note: String? = nil
        ) {
            self.note = note
            self.peer = peer
            self.status = status
            self.bCallID = bCallID
            self.calledNumber = calledNumber
            self.callerNumber = callerNumber
        }
    }

    public var aCallID: String
    public var source: String
    public var route: String?
    /// As the source peer sent them (Request-URI user and From user).
    public var calledIn: String?
    public var callerIn: String?
    /// In the house format (E.164), what routing saw.
    public var calledHouse: String?
    public var callerHouse: String?
    public var attempts: [Attempt] = []
    /// The target that answered, if any.
    public var target: String?
    /// The final status the caller got (200 for an answered call).
    public var result: Int?
    public var setupTime: Date
    public var answerTime: Date?
    public var endTime: Date?
    /// caller, callee, caller (cancel), setup (never answered), shutdown, no ACK...
    public var endedBy: String?

    public init(aCallID: String, source: String, route: String?, setupTime: Date = Date()) {
        self.aCallID = aCallID
        self.source = source
        self.route = route
        self.setupTime = setupTime
    }

    /// The record of a call starting with `invite` from `source`: its Call-ID and the numbers as sent.
    package init(invite: SIPMessage, source: String, route: String?) {
        self.init(aCallID: invite.callID ?? "", source: source, route: route)
        calledIn = invite.requestURIUser.map(String.init)
        callerIn = invite.fromUser.map(String.init)
    }

    /// The B leg's Call-ID of the last target tried.
    public var bCallID: String? { attempts.last(where: { $0.bCallID != nil })?.bCallID }
    public var answered: Bool { answerTime != nil }
    public var durationSeconds: Double? { answerTime.flatMap { a in endTime.map { $0.timeIntervalSince(a) } } }
}

/// Where finished calls' records go. `submit` is called on a shard's event loop when a call ends and must return
/// at once: an implementation queues the record and writes it elsewhere, never blocking call handling.
public protocol CallRecordSink: Sendable {
    func submit(_ record: CallRecord)
}
