/// What came back for a `MediaCommand`.
package enum MediaOutcome: Sendable, Equatable {
    /// The rewritten SDP, and the instance that holds the session.
    case sdp([UInt8], instance: String)
    /// No instance answered, rtpengine refused, or its answer could not be read: an error for this call only.
    case failed(String)
}
