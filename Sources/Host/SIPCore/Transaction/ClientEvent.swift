import PluginAPI

/// What a client transaction reports to the call that started it.
package enum ClientEvent {
    case response(SIPMessage)
    /// Timer B or F: nothing came back.
    case timeout
    /// The transport could not deliver the request (connection refused, TLS handshake failed): RFC 3261 section
    /// 8.1.3.1 treats it as a 503 from the target.
    case transportError
}
