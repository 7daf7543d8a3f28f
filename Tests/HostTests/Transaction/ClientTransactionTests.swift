import NIOCore
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Routing
@testable import SIPCore

/// RFC 3261 figure 5, event by event, without a loop: the timers are only names and intervals here.
@Suite struct InviteClientTransactionTests {
    typealias F = TransactionFixtures
    let invite = F.invite()

    @Test func startSendsTheInviteAndArmsTimersAAndB() {
        var t = InviteClientTransaction(request: invite)
        #expect(t.start() == [.send(invite), .startTimer(.A, .milliseconds(500)), .startTimer(.B, .seconds(32))])
        #expect(t.state == .calling)
        #expect(t.start() == [], "starting twice sends nothing")
    }

    /// A peer's invite_timeout replaces 64*T1 as Timer B; Timer A and the other machines are untouched.
    @Test func timerBTakesThePeersInviteTimeout() {
        var settings = TransactionSettings()
        settings.timerB = .milliseconds(1500)
        var t = InviteClientTransaction(request: invite, settings: settings)
        #expect(
            t.start() == [.send(invite), .startTimer(.A, .milliseconds(500)), .startTimer(.B, .milliseconds(1500))])
        var bye = NonInviteClientTransaction(request: F.request(method: "BYE"), settings: settings)
        #expect(bye.start().contains(.startTimer(.F, .seconds(32))), "Timer F stays 64*T1")
    }

    @Test func timerADoublesWithoutTheT2Cap() {
        var t = InviteClientTransaction(request: invite)
        _ = t.start()
        var intervals: [TimeAmount] = []
        for _ in 0..<6 {
            let actions = t.timerFired(.A)
            #expect(actions.sent == [invite])
            for case .startTimer(.A, let next) in actions { intervals.append(next) }
        }
        #expect(intervals == [1, 2, 4, 8, 16, 32].map { TimeAmount.seconds($0) })
    }

    @Test func timerBTimesOutAndTerminates() {
        var t = InviteClientTransaction(request: invite)
        _ = t.start()
        #expect(t.timerFired(.B) == [.cancelTimer(.A), .timedOut, .terminated])
        #expect(t.state == .terminated)
        #expect(t.timerFired(.A) == [], "a timer that raced with termination is ignored")
    }

    @Test func reliableTransportHasNoTimerA() {
        var t = InviteClientTransaction(request: invite, settings: F.reliable)
        #expect(t.start() == [.send(invite), .startTimer(.B, .seconds(32))])
        #expect(t.timerFired(.A) == [])
    }

    @Test func provisionalMovesToProceedingAndStopsRetransmitting() {
        var t = InviteClientTransaction(request: invite)
        _ = t.start()
        let ringing = F.response(180, "Ringing", to: invite)
        #expect(t.receive(ringing) == [.cancelTimer(.A), .cancelTimer(.B), .deliver(ringing)])
        #expect(t.state == .proceeding)
        #expect(t.runningTimers.isEmpty)
        #expect(t.receive(ringing) == [.deliver(ringing)], "every provisional goes to the TU")
    }

    @Test func successIsDeliveredAndEndsTheTransaction() {
        var t = InviteClientTransaction(request: invite)
        _ = t.start()
        _ = t.receive(F.response(100, "Trying", to: invite))
        let ok = F.response(200, "OK", to: invite)
        #expect(t.receive(ok) == [.deliver(ok), .terminated], "A and B already stopped at the 100")
        #expect(t.state == .terminated)
        #expect(t.receive(ok) == [], "2xx retransmissions are the TU's, through the layer, not this transaction's")
    }

    @Test func successInCallingCancelsBothTimers() {
        var t = InviteClientTransaction(request: invite)
        _ = t.start()
        let ok = F.response(200, "OK", to: invite)
        #expect(t.receive(ok) == [.cancelTimer(.A), .cancelTimer(.B), .deliver(ok), .terminated])
    }

    @Test func failureIsAcknowledgedDeliveredOnceAndWaitsTimerD() throws {
        //  UAC                        UAS
        //   | INVITE ----------------> |
        //   | <------------ 486 Busy   |   deliver, ACK
        //   | ACK -------------------> |
        //   | <------------ 486 Busy   |   retransmission: ACK again, TU not told
        //   | ACK -------------------> |
        //   |        Timer D (32 s)    |   terminated
        var t = InviteClientTransaction(request: invite)
        _ = t.start()
        let busy = F.response(486, "Busy Here", to: invite)
        let actions = t.receive(busy)
        let ack = try #require(t.ack)
        #expect(
            actions == [
                .cancelTimer(.A), .cancelTimer(.B), .deliver(busy), .send(ack), .startTimer(.D, .seconds(32)),
            ])
        #expect(t.state == .completed)
        #expect(t.receive(busy) == [.send(ack)])
        #expect(t.receive(F.response(180, "Ringing", to: invite)) == [])
        #expect(t.timerFired(.D) == [.terminated])
        #expect(t.state == .terminated)
    }

    @Test func failureOverAReliableTransportTerminatesAtOnce() throws {
        var t = InviteClientTransaction(request: invite, settings: F.reliable)
        _ = t.start()
        let busy = F.response(486, "Busy Here", to: invite)
        let ack = InviteClientTransaction.makeACK(for: invite, response: busy)
        #expect(t.receive(busy) == [.cancelTimer(.B), .deliver(busy), .send(ack), .terminated])
    }

    @Test func ackForAFailureFollowsSection17_1_1_3() throws {
        let request = F.invite(extraHeaders: "Contact: <sip:alice@uac.example>\r\nContent-Type: application/sdp\r\n")
        let busy = F.response(486, "Busy Here", to: request, toTag: "busy-tag")
        let ack = InviteClientTransaction.makeACK(for: request, response: busy)
        #expect(ack.startLine == .request(method: "ACK", uri: "sip:+4930987654@gw.example", version: "SIP/2.0"))
        #expect(ack.values("Via") == ["SIP/2.0/UDP uac.example:5060;branch=z9hG4bK-uac-1"], "only the top Via")
        #expect(ack.values("Route") == ["<sip:edge.example;lr>"])
        #expect(ack.header("Max-Forwards") == "70")
        #expect(ack.header("From") == request.header("From"))
        #expect(ack.to?.tag == "busy-tag")
        #expect(ack.callID == request.callID)
        #expect(ack.header("CSeq") == "1 ACK")
        #expect(!ack.hasHeader("Contact") && !ack.hasHeader("Content-Type"))
        #expect(ack.body.isEmpty)
        #expect(ack.text.contains("Content-Length: 0\r\n"))
        #expect(TransactionKey(request: ack) == TransactionKey(request: request), "the ACK belongs to the INVITE")
    }

    @Test func transportErrorTerminates() {
        var t = InviteClientTransaction(request: invite)
        _ = t.start()
        #expect(t.transportFailed() == [.cancelTimer(.A), .cancelTimer(.B), .transportError, .terminated])
        #expect(t.transportFailed() == [])
    }
}

/// RFC 3261 figure 6.
@Suite struct NonInviteClientTransactionTests {
    typealias F = TransactionFixtures
    let options = F.request(method: "OPTIONS")

    @Test func timerEDoublesUpToT2() {
        var t = NonInviteClientTransaction(request: options)
        #expect(t.start() == [.send(options), .startTimer(.E, .milliseconds(500)), .startTimer(.F, .seconds(32))])
        var intervals: [TimeAmount] = []
        for _ in 0..<6 {
            let actions = t.timerFired(.E)
            #expect(actions.sent == [options])
            for case .startTimer(.E, let next) in actions { intervals.append(next) }
        }
        #expect(intervals == [1, 2, 4, 4, 4, 4].map { TimeAmount.seconds($0) })
    }

    @Test func provisionalKeepsRetransmittingAtT2() {
        var t = NonInviteClientTransaction(request: options)
        _ = t.start()
        let trying = F.response(100, "Trying", to: options)
        #expect(t.receive(trying) == [.deliver(trying)])
        #expect(t.state == .proceeding)
        #expect(t.runningTimers == [.E, .F])
        #expect(t.timerFired(.E) == [.send(options), .startTimer(.E, .seconds(4))])
        #expect(t.receive(trying) == [.deliver(trying)])
    }

    @Test func finalIsDeliveredOnceThenTimerK() {
        var t = NonInviteClientTransaction(request: options)
        _ = t.start()
        let ok = F.response(200, "OK", to: options)
        #expect(t.receive(ok) == [.cancelTimer(.E), .cancelTimer(.F), .deliver(ok), .startTimer(.K, .seconds(5))])
        #expect(t.state == .completed)
        #expect(t.receive(ok) == [])
        #expect(t.receive(F.response(404, "Not Found", to: options)) == [])
        #expect(t.timerFired(.E) == [], "E was cancelled; a late fire does nothing")
        #expect(t.timerFired(.K) == [.terminated])
    }

    @Test func reliableTransportHasNoTimerEAndNoWait() {
        var t = NonInviteClientTransaction(request: options, settings: F.reliable)
        #expect(t.start() == [.send(options), .startTimer(.F, .seconds(32))])
        let ok = F.response(200, "OK", to: options)
        #expect(t.receive(ok) == [.cancelTimer(.F), .deliver(ok), .terminated])
    }

    @Test func timerFTimesOutFromProceedingToo() {
        var t = NonInviteClientTransaction(request: options)
        _ = t.start()
        _ = t.receive(F.response(100, "Trying", to: options))
        #expect(t.timerFired(.F) == [.cancelTimer(.E), .timedOut, .terminated])
        #expect(t.state == .terminated)
    }

    @Test func customTimersScale() {
        let settings = TransactionSettings(t1: .milliseconds(100), t2: .milliseconds(300), t4: .seconds(1))
        var t = NonInviteClientTransaction(request: options, settings: settings)
        #expect(t.start().last == .startTimer(.F, .milliseconds(6400)))
        #expect(t.timerFired(.E).last == .startTimer(.E, .milliseconds(200)))
        #expect(t.timerFired(.E).last == .startTimer(.E, .milliseconds(300)))
        #expect(t.receive(F.response(200, "OK", to: options)).last == .startTimer(.K, .seconds(1)))
    }
}
