import PluginAPI

extension SIPMessage {
    /// The SIP version of the start line, so messages a transaction builds answer in the version they were sent in.
    var transactionSIPVersion: String {
        switch startLine {
        case .request(_, _, let version), .response(let version, _, _): version
        }
    }
}
