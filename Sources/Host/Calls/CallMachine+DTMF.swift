import PluginAPI
import Routing
import SIPCore

/// DTMF between a peer that sends digits as SIP INFO and one that takes them in its media (RFC 4733
/// telephone-events), on an anchored call: an INFO is answered here and its digit played into the media by
/// rtpengine (`play DTMF`); a telephone-event rtpengine reports from the media goes to an INFO peer as an INFO.
/// Only a peer that anchors its media has a `dtmf` setting that counts; otherwise INFO is relayed as it is.
extension CallMachine {
    /// An INFO carrying a digit, for a peer that takes DTMF in its media. False: relay the INFO as any other.
    mutating func dtmfToMedia(_ request: SIPMessage, fromA: Bool) -> Bool {
        guard state == .confirmed, let anchor, let callID = anchor.callID, let instance = anchor.instance else {
            return false
        }
        let side: MediaAnchor.Side = fromA ? .a : .b
        let receiver = mediaPolicy(side.other, target: anchor.target)
        guard receiver.mode == .anchor, receiver.dtmf != .info, let (code, duration) = Self.dtmfDigit(in: request)
        else { return false }
        actions.append(.respond(Relay.response(200, "OK", to: request, toTag: nil, contact: nil), to: request))
        actions.append(
            .playDTMF(
                callID: callID, instance: instance, fromTag: side.tag, code: code, durationMilliseconds: duration))
        return true
    }

    /// rtpengine saw a telephone-event from the side with `sourceTag`: the other side gets it as an INFO if it
    /// wants INFO (it gets the event in its media anyway otherwise).
    mutating func dtmfFromMedia(event: Int, durationMilliseconds: Int, sourceTag: String) {
        guard state == .confirmed, let anchor, let code = Self.dtmfCode(event) else { return }
        let sender: MediaAnchor.Side
        switch sourceTag {
        case MediaAnchor.Side.a.tag: sender = .a
        case MediaAnchor.Side.b.tag: sender = .b
        default: return
        }
        let receiver = mediaPolicy(sender.other, target: anchor.target)
        guard receiver.mode == .anchor, receiver.dtmf == .info, var leg = sender == .a ? b : a else { return }
        var info = leg.makeRequest(
            "INFO", via: context.via(for: leg.destination), contact: context.contact(user: nil, for: leg.destination))
        info.headers.append(SIPHeader("Content-Type", "application/dtmf-relay"))
        info.body = Array("Signal=\(code)\r\nDuration=\(durationMilliseconds)\r\n".utf8)
        if sender == .a { b = leg } else { a = leg }
        actions.append(.sendRequest(info, to: leg.destination, peer: leg.peer, role: .oneShot))
    }

    /// The digit and its duration in an INFO: `application/dtmf-relay` (`Signal=5`, `Duration=160`) or
    /// `application/dtmf` (the digit alone).
    static func dtmfDigit(in request: SIPMessage) -> (String, Int)? {
        guard let type = request.contentType?.lowercased() else { return nil }
        let text = String(decoding: request.body, as: UTF8.self)
        var signal: String?
        var duration = 160
        if type.hasPrefix("application/dtmf-relay") {
            for line in text.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                switch parts[0].lowercased() {
                case "signal": signal = parts[1]
                case "duration": duration = Int(parts[1]) ?? duration
                default: break
                }
            }
        } else if type.hasPrefix("application/dtmf") {
            signal = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let signal, signal.count == 1, "0123456789*#ABCDabcd".contains(signal) else { return nil }
        return (signal.uppercased(), min(max(duration, 40), 5000))
    }

    /// RFC 4733 section 3.2's event codes for the sixteen DTMF digits.
    static func dtmfCode(_ event: Int) -> String? {
        let codes = Array("0123456789*#ABCD")
        return codes.indices.contains(event) ? String(codes[event]) : nil
    }
}
