import PluginAPI

/// What a step decides: go on to the next step, answer the request here, or forward it.
package enum StepOutcome: Sendable, Equatable {
    /// The next step answers the next question.
    case proceed
    /// Patchbay answers the request itself (an error, a refusal, OPTIONS).
    case answer(Answer)
    /// Nothing is sent: an ACK that matches nothing, or a source the site ignores. `counted` names the rejection
    /// metric, if any.
    case drop(counted: String?)
    /// The request belongs to a call in progress (an in-dialog request, CANCEL, ACK, a retransmitted INVITE).
    case toCall
    /// A new call, for `RequestState.targets` in order.
    case toTargets

    /// A response Patchbay writes for the request.
    package struct Answer: Sendable, Equatable {
        package var status: Int
        package var reason: String
        package var headers: [SIPHeader] = []
        /// Whether the response gets a To tag of ours: not for a request inside a dialog Patchbay does not know,
        /// whose To already has the peer's idea of one.
        package var tagged = true
        /// The rejection metric this answer counts under (`patchbay_messages_rejected_total`), if any.
        package var counted: String?
        /// Why, for the log line (the overload that refused a call).
        package var note: String?

        package init(_ status: Int, _ reason: String, headers: [SIPHeader] = []) {
            self.status = status
            self.reason = reason
            self.headers = headers
        }

        /// The same answer, counted under the rejection metric `rejection`, with why for the log.
        package func countedAs(_ rejection: String, note: String? = nil) -> Answer {
            var a = self
            a.counted = rejection
            a.note = note
            return a
        }

        /// The same answer without a To tag of ours.
        package var untagged: Answer {
            var a = self
            a.tagged = false
            return a
        }
    }
}

extension StepOutcome {
    /// How `--explain` says what a step decided.
    var summary: String {
        switch self {
        case .proceed: return "continue"
        case .answer(let a): return "answer \(a.status) \(a.reason)"
        case .drop: return "drop, no answer"
        case .toCall: return "forward to the call in progress"
        case .toTargets: return "forward to the targets"
        }
    }
}
