import NIOCore
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Routing
@testable import SIPCore

/// RFC 3261 figure 7, event by event.
@Suite struct InviteServerTransactionTests {
    typealias F = TransactionFixtures
    let invite = F.invite(extraHeaders: "Timestamp: 54\r\nContact: <sip:alice@uac.example>\r\n")

    @Test func startSendsTryingAndPassesTheInviteUp() throws {
        var t = InviteServerTransaction(request: invite)
        let actions = t.start()
        let trying = try #require(actions.first?.sentMessage)
        #expect(actions == [.send(trying), .deliver(invite)])
        #expect(t.state == .proceeding)
        #expect(t.runningTimers.isEmpty)

        #expect(trying.statusCode == 100)
        #expect(trying.values("Via") == invite.values("Via"), "every Via, in order")
        #expect(trying.header("From") == invite.header("From"))
        #expect(trying.header("To") == invite.header("To"), "no tag on a 100")
        #expect(trying.callID == invite.callID)
        #expect(trying.header("CSeq") == "1 INVITE")
        #expect(trying.header("Timestamp") == "54")
        #expect(!trying.hasHeader("Contact") && !trying.hasHeader("Route") && !trying.hasHeader("Max-Forwards"))
        #expect(trying.text.hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    @Test func retransmittedInviteRepeatsTheLastProvisional() throws {
        var t = InviteServerTransaction(request: invite)
        let trying = try #require(t.start().first?.sentMessage)
        #expect(t.receive(invite) == [.send(trying)])
        let ringing = F.response(180, "Ringing", to: invite)
        #expect(t.send(ringing) == [.send(ringing)])
        #expect(t.state == .proceeding)
        #expect(t.receive(invite) == [.send(ringing)])
        #expect(t.receive(F.ack(for: invite, response: ringing)) == [], "an ACK before a final response is not ours")
    }

    @Test func successIsSentAndEndsTheTransaction() {
        var t = InviteServerTransaction(request: invite)
        _ = t.start()
        let ok = F.response(200, "OK", to: invite)
        #expect(t.send(ok) == [.send(ok), .terminated])
        #expect(t.state == .terminated)
        #expect(t.send(ok) == [], "2xx retransmissions are the TU's")
    }

    @Test func failureIsRetransmittedUntilTheAck() {
        //  UAC                        UAS
        //   | INVITE ----------------> |
        //   | <------------ 100 Trying |
        //   | <------------ 486 Busy   |   TU; Timers G (0.5 s) and H (32 s)
        //   | <------------ 486 Busy   |   G: 1 s, 2 s, 4 s, 4 s, ...
        //   | ACK -------------------> |   confirmed, Timer I (5 s)
        //   | ACK -------------------> |   absorbed
        //   |        Timer I           |   terminated
        var t = InviteServerTransaction(request: invite)
        _ = t.start()
        let busy = F.response(486, "Busy Here", to: invite)
        #expect(t.send(busy) == [.send(busy), .startTimer(.G, .milliseconds(500)), .startTimer(.H, .seconds(32))])
        #expect(t.state == .completed)
        var intervals: [TimeAmount] = []
        for _ in 0..<5 {
            let actions = t.timerFired(.G)
            #expect(actions.sent == [busy])
            for case .startTimer(.G, let next) in actions { intervals.append(next) }
        }
        #expect(intervals == [1, 2, 4, 4, 4].map { TimeAmount.seconds($0) })
        #expect(t.receive(invite) == [.send(busy)], "a retransmitted INVITE gets the final response again")
        #expect(t.send(F.response(500, "Server Error", to: invite)) == [], "one final response only")

        let ack = F.ack(for: invite, response: busy)
        #expect(t.receive(ack) == [.cancelTimer(.G), .cancelTimer(.H), .startTimer(.I, .seconds(5))])
        #expect(t.state == .confirmed)
        #expect(t.receive(ack) == [])
        #expect(t.receive(invite) == [])
        #expect(t.timerFired(.G) == [], "G was cancelled")
        #expect(t.timerFired(.I) == [.terminated])
        #expect(t.state == .terminated)
    }

    @Test func timerHGivesUpOnTheAck() {
        var t = InviteServerTransaction(request: invite)
        _ = t.start()
        _ = t.send(F.response(404, "Not Found", to: invite))
        #expect(t.timerFired(.H) == [.cancelTimer(.G), .timedOut, .terminated])
    }

    @Test func reliableTransportNeitherRetransmitsNorWaits() {
        var t = InviteServerTransaction(request: invite, settings: F.reliable)
        _ = t.start()
        let busy = F.response(486, "Busy Here", to: invite)
        #expect(t.send(busy) == [.send(busy), .startTimer(.H, .seconds(32))])
        #expect(t.receive(F.ack(for: invite, response: busy)) == [.cancelTimer(.H), .terminated])
    }

    @Test func transportErrorTerminates() {
        var t = InviteServerTransaction(request: invite)
        _ = t.start()
        _ = t.send(F.response(486, "Busy Here", to: invite))
        #expect(t.transportFailed() == [.cancelTimer(.G), .cancelTimer(.H), .transportError, .terminated])
    }
}

/// RFC 3261 figure 8.
@Suite struct NonInviteServerTransactionTests {
    typealias F = TransactionFixtures
    let register = F.request(method: "REGISTER")

    @Test func retransmissionsAreAbsorbedThenAnsweredWithTheLastResponse() {
        //  UAC                         UAS
        //   | REGISTER --------------> |   deliver
        //   | REGISTER --------------> |   trying: absorbed
        //   | <------------ 100 Trying |   TU
        //   | REGISTER --------------> |   proceeding: 100 again
        //   | <------------ 200 OK     |   TU; Timer J (32 s)
        //   | REGISTER --------------> |   completed: 200 again
        var t = NonInviteServerTransaction(request: register)
        #expect(t.start() == [.deliver(register)])
        #expect(t.state == .trying)
        #expect(t.receive(register) == [])
        let trying = F.response(100, "Trying", to: register)
        #expect(t.send(trying) == [.send(trying)])
        #expect(t.state == .proceeding)
        #expect(t.receive(register) == [.send(trying)])
        let ok = F.response(200, "OK", to: register)
        #expect(t.send(ok) == [.send(ok), .startTimer(.J, .seconds(32))])
        #expect(t.state == .completed)
        #expect(t.receive(register) == [.send(ok)])
        #expect(t.send(F.response(500, "Server Error", to: register)) == [], "later finals are discarded")
        #expect(t.timerFired(.J) == [.terminated])
        #expect(t.receive(register) == [])
    }

    @Test func finalStraightFromTrying() {
        var t = NonInviteServerTransaction(request: register)
        _ = t.start()
        let notFound = F.response(404, "Not Found", to: register)
        #expect(t.send(notFound) == [.send(notFound), .startTimer(.J, .seconds(32))])
    }

    @Test func reliableTransportTerminatesOnTheFinal() {
        var t = NonInviteServerTransaction(request: register, settings: F.reliable)
        _ = t.start()
        let ok = F.response(200, "OK", to: register)
        #expect(t.send(ok) == [.send(ok), .terminated])
        #expect(t.state == .terminated)
    }

    @Test func transportErrorTerminates() {
        var t = NonInviteServerTransaction(request: register)
        _ = t.start()
        #expect(t.transportFailed() == [.transportError, .terminated])
    }
}
