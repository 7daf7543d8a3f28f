/// What the setup and teardown log lines say about a call.
struct CallRecord {
    var aCallID: String
    var bCallID: String?
    var source: String
    var route: String?
    var attempts: [(peer: String, status: Int)] = []
    var target: String?
    var result: Int?
    var setupAt: UInt64
    var answeredAt: UInt64?
    var endedBy: String?
}
