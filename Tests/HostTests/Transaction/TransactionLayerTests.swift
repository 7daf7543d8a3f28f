import NIOCore
import NIOEmbedded
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Routing
@testable import SIPCore

/// The layer on a virtual clock: `EmbeddedEventLoop.advanceTime` fires the timers, and the wire records what was
/// sent, when and where. Tests are synchronous because an `EmbeddedEventLoop` must stay on the thread that made it.
@Suite struct TransactionLayerTests {
    typealias F = TransactionFixtures

    /// Everything the layer handed to the transport, stamped with the loop's virtual time.
    final class Wire {
        struct Sent: Equatable {
            var at: TimeAmount
            var message: SIPMessage
            var to: String
        }

        let loop = EmbeddedEventLoop()
        var sent: [Sent] = []
        var responses: [SIPMessage] = []
        var failures: [(at: TimeAmount, failure: TransactionFailure)] = []
        var serverFailures: [(request: SIPMessage, failure: TransactionFailure)] = []
        lazy var layer: TransactionLayer<String> = {
            let layer = TransactionLayer<String>(eventLoop: loop) { [unowned self] message, destination in
                self.sent.append(Sent(at: self.now, message: message, to: destination))
            }
            layer.onServerFailure = { [unowned self] in self.serverFailures.append(($0, $1)) }
            return layer
        }()

        var now: TimeAmount { .nanoseconds(Int64(loop.now.uptimeNanoseconds)) }

        func advance(to time: TimeAmount) { loop.advanceTime(to: .uptimeNanoseconds(UInt64(time.nanoseconds))) }

        /// When each message with this start line went out.
        func times(_ predicate: (SIPMessage) -> Bool) -> [TimeAmount] {
            sent.filter { predicate($0.message) }.map(\.at)
        }

        func sendRequest(_ request: SIPMessage, to destination: String = "gw:5060", reliable: Bool? = nil) throws {
            try layer.sendRequest(
                request, to: destination, reliableTransport: reliable,
                onResponse: { [unowned self] in self.responses.append($0) },
                onFailure: { [unowned self] in self.failures.append((self.now, $0)) })
        }
    }

    static func ms(_ values: Int64...) -> [TimeAmount] { values.map { .milliseconds($0) } }

    // MARK: Client transactions

    @Test func inviteOverUDPWithNoAnswerRetransmitsAndTimesOutAt32Seconds() throws {
        //  Patchbay                   gateway
        //   | INVITE ----------------> |   0 s
        //   | INVITE ----------------> |   0.5 s    Timer A = T1
        //   | INVITE ----------------> |   1.5 s    2*T1
        //   | INVITE ----------------> |   3.5 s    4*T1
        //   | INVITE ----------------> |   7.5 s    8*T1
        //   | INVITE ----------------> |  15.5 s   16*T1
        //   | INVITE ----------------> |  31.5 s   32*T1
        //   |                          |  32 s     Timer B = 64*T1: timeout
        let wire = Wire()
        let invite = F.invite()
        try wire.sendRequest(invite)
        #expect(wire.layer.clientTransactionCount == 1)
        wire.advance(to: .seconds(40))
        #expect(wire.times { $0 == invite } == Self.ms(0, 500, 1500, 3500, 7500, 15500, 31500))
        #expect(wire.sent.allSatisfy { $0.to == "gw:5060" })
        #expect(wire.failures.map(\.at) == [.seconds(32)])
        #expect(wire.failures.map(\.failure) == [.timeout])
        #expect(wire.layer.count == 0)
        wire.advance(to: .seconds(120))
        #expect(wire.sent.count == 7)
    }

    @Test func inviteOverTCPIsSentOnce() throws {
        let wire = Wire()
        try wire.sendRequest(F.invite(), reliable: true)
        wire.advance(to: .seconds(40))
        #expect(wire.sent.count == 1)
        #expect(wire.failures.map(\.at) == [.seconds(32)])
    }

    @Test func inviteRejectedIsDeliveredOnceAndAcknowledgedForEachRetransmission() throws {
        //  Patchbay                   gateway
        //   | INVITE ----------------> |   0 s
        //   | <------------- 180       |   0.2 s   deliver; no more retransmissions
        //   | <------------- 486       |   2 s     deliver
        //   | ACK -------------------> |
        //   | <------------- 486       |   2.5 s   ACK lost: absorbed, ACK again
        //   | ACK -------------------> |
        //   |                          |  34 s     Timer D: transaction removed
        let wire = Wire()
        let invite = F.invite()
        try wire.sendRequest(invite)
        let ringing = F.response(180, "Ringing", to: invite)
        let busy = F.response(486, "Busy Here", to: invite)
        wire.advance(to: .milliseconds(200))
        #expect(wire.layer.receive(ringing, from: "gw:5060") == nil)
        wire.advance(to: .seconds(2))
        #expect(wire.layer.receive(busy, from: "gw:5060") == nil)
        wire.advance(to: .milliseconds(2500))
        #expect(wire.layer.receive(busy, from: "gw:5060") == nil)

        let ack = InviteClientTransaction.makeACK(for: invite, response: busy)
        #expect(wire.responses == [ringing, busy])
        #expect(wire.sent.map(\.message) == [invite, ack, ack])
        #expect(wire.times { $0 == ack } == Self.ms(2000, 2500))
        wire.advance(to: .seconds(33))
        #expect(wire.layer.count == 1, "Timer D runs 32 s from the first 486")
        wire.advance(to: .seconds(34))
        #expect(wire.layer.count == 0)
        #expect(wire.failures.isEmpty)
        #expect(wire.layer.receive(busy, from: "gw:5060") == busy, "after Timer D it matches nothing")
    }

    @Test func inviteAnsweredIsDeliveredOnceAndRetransmitted2xxGoToTheTU() throws {
        let wire = Wire()
        let invite = F.invite()
        try wire.sendRequest(invite)
        let ok = F.response(200, "OK", to: invite)
        wire.advance(to: .milliseconds(700))
        #expect(wire.layer.receive(ok, from: "gw:5060") == nil)
        #expect(wire.responses == [ok])
        #expect(wire.layer.count == 0, "the 2xx ends the INVITE client transaction")
        #expect(wire.layer.receive(ok, from: "gw:5060") == ok, "the dialog ACKs retransmitted 2xx itself")
        wire.advance(to: .seconds(60))
        #expect(wire.times { $0 == invite } == Self.ms(0, 500), "no retransmission after the 2xx")
        #expect(wire.responses == [ok])
        #expect(wire.failures.isEmpty)
    }

    @Test func nonInviteRetransmissionsCapAtT2() throws {
        let wire = Wire()
        let options = F.request(method: "OPTIONS")
        try wire.sendRequest(options)
        wire.advance(to: .seconds(40))
        #expect(
            wire.times { $0 == options }
                == Self.ms(0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500))
        #expect(wire.failures.map(\.at) == [.seconds(32)])
        #expect(wire.layer.count == 0)
    }

    @Test func nonInviteInProceedingRetransmitsEveryT2AndDeliversTheFinalOnce() throws {
        //  Patchbay                   registrar
        //   | REGISTER --------------> |   0 s, 0.5 s
        //   | <------------ 100        |   1 s      proceeding
        //   | REGISTER --------------> |   1.5 s    (Timer E as armed at 0.5 s), then every T2
        //   | REGISTER --------------> |   5.5 s
        //   | <------------ 200        |   6 s      deliver; Timer K = T4
        //   | <------------ 200        |   6.1 s    absorbed
        //   |                          |  11 s      removed
        let wire = Wire()
        let register = F.request(method: "REGISTER")
        try wire.sendRequest(register)
        let trying = F.response(100, "Trying", to: register)
        let ok = F.response(200, "OK", to: register)
        wire.advance(to: .seconds(1))
        #expect(wire.layer.receive(trying, from: "gw:5060") == nil)
        wire.advance(to: .seconds(6))
        #expect(wire.layer.receive(ok, from: "gw:5060") == nil)
        wire.advance(to: .milliseconds(6100))
        #expect(wire.layer.receive(ok, from: "gw:5060") == nil)
        #expect(wire.responses == [trying, ok])
        #expect(wire.times { $0 == register } == Self.ms(0, 500, 1500, 5500))
        wire.advance(to: .milliseconds(10999))
        #expect(wire.layer.count == 1)
        wire.advance(to: .seconds(11))
        #expect(wire.layer.count == 0)
        #expect(wire.times { $0 == register }.count == 4)
        #expect(wire.failures.isEmpty)
    }

    @Test func cancelIsATransactionOfItsOwn() throws {
        let wire = Wire()
        let invite = F.invite()
        let cancel = F.request(method: "CANCEL")
        try wire.sendRequest(invite)
        try wire.sendRequest(cancel)
        #expect(wire.layer.clientTransactionCount == 2)
        let cancelled = F.response(200, "OK", to: cancel)
        let terminated = F.response(487, "Request Terminated", to: invite)
        #expect(wire.layer.receive(cancelled, from: "gw:5060") == nil)
        #expect(wire.layer.receive(terminated, from: "gw:5060") == nil)
        #expect(wire.responses == [cancelled, terminated])
    }

    @Test func misuseIsRefusedBeforeAnythingIsSent() throws {
        let wire = Wire()
        let invite = F.invite()
        let ack = F.ack(for: invite, response: F.response(486, "Busy Here", to: invite))
        #expect(throws: TransactionLayerError.ackIsNotATransaction) { try wire.sendRequest(ack) }
        #expect(throws: TransactionLayerError.missingRFC3261Branch) { try wire.sendRequest(F.invite(branch: "1")) }
        try wire.sendRequest(invite)
        let key = try #require(TransactionKey(request: invite))
        #expect(throws: TransactionLayerError.duplicateTransaction(key)) { try wire.sendRequest(invite) }
        #expect(wire.sent.count == 1)
    }

    @Test func transportFailureEndsTheClientTransaction() throws {
        let wire = Wire()
        let invite = F.invite()
        try wire.sendRequest(invite)
        wire.advance(to: .seconds(1))
        #expect(wire.layer.transportFailed(sending: invite))
        #expect(wire.failures.map(\.failure) == [.transportError])
        #expect(wire.layer.count == 0)
        wire.advance(to: .seconds(40))
        #expect(wire.sent.count == 2, "no retransmission after the failure")
        #expect(wire.failures.count == 1)
        #expect(!wire.layer.transportFailed(sending: invite))
    }

    @Test func theBriefsCallbackShapeReportsTimeouts() throws {
        let wire = Wire()
        var timeouts = 0
        try wire.layer.sendRequest(
            F.request(method: "OPTIONS"), to: "gw", onResponse: { _ in },
            onTimeout: {
                timeouts += 1
            })
        wire.advance(to: .seconds(32))
        #expect(timeouts == 1)
    }

    @Test func unmatchedResponsesGoToTheTU() {
        let wire = Wire()
        let stray = F.response(200, "OK", to: F.invite())
        #expect(wire.layer.receive(stray, from: "gw:5060") == stray)
        #expect(wire.sent.isEmpty)
    }

    // MARK: Server transactions

    @Test func inviteAnswered486IsRetransmittedUntilTheAckWhichIsAbsorbed() throws {
        //  PBX                        Patchbay
        //   | INVITE ----------------> |   0 s      new: returned to the TU
        //   | <------------ 100 Trying |   0 s
        //   | <------------ 486 Busy   |   1 s      TU
        //   | <------------ 486 Busy   |   1.5, 2.5, 4.5 s    Timer G
        //   | ACK -------------------> |   5 s      absorbed; Timer I = T4
        //   | ACK -------------------> |   6 s      absorbed
        //   |                          |  10 s      removed
        let wire = Wire()
        let invite = F.invite()
        #expect(wire.layer.receive(invite, from: "pbx:5060") == invite)
        #expect(wire.layer.serverTransactionCount == 1)
        let trying = try #require(wire.sent.first?.message)
        #expect(trying.statusCode == 100)
        #expect(wire.layer.receive(invite, from: "pbx:5060") == nil, "retransmission: 100 again")

        let busy = F.response(486, "Busy Here", to: invite)
        wire.advance(to: .seconds(1))
        #expect(wire.layer.respond(busy, to: invite))
        let ack = F.ack(for: invite, response: busy)
        wire.advance(to: .seconds(5))
        #expect(wire.layer.receive(ack, from: "pbx:5060") == nil)
        wire.advance(to: .seconds(6))
        #expect(wire.layer.receive(ack, from: "pbx:5060") == nil)
        wire.advance(to: .seconds(60))

        #expect(wire.times { $0 == trying } == Self.ms(0, 0))
        #expect(wire.times { $0 == busy } == Self.ms(1000, 1500, 2500, 4500))
        #expect(wire.sent.allSatisfy { $0.to == "pbx:5060" })
        #expect(wire.serverFailures.isEmpty)
        #expect(wire.layer.count == 0)
        #expect(wire.layer.receive(ack, from: "pbx:5060") == ack, "after Timer I an ACK matches nothing")
    }

    @Test func inviteRejectedWithoutAckTimesOutAfterTimerH() throws {
        let wire = Wire()
        let invite = F.invite()
        _ = wire.layer.receive(invite, from: "pbx:5060")
        let busy = F.response(486, "Busy Here", to: invite)
        wire.layer.respond(busy, to: invite)
        wire.advance(to: .seconds(40))
        #expect(
            wire.times { $0 == busy }
                == Self.ms(0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500))
        #expect(wire.serverFailures.map(\.failure) == [.timeout])
        #expect(wire.serverFailures.map(\.request) == [invite])
        #expect(wire.layer.count == 0)
    }

    @Test func inviteAnswered200EndsTheServerTransactionAndTheAckGoesToTheTU() throws {
        let wire = Wire()
        let invite = F.invite()
        _ = wire.layer.receive(invite, from: "pbx:5060")
        let ringing = F.response(180, "Ringing", to: invite)
        #expect(wire.layer.respond(ringing, to: invite))
        #expect(wire.layer.receive(invite, from: "pbx:5060") == nil)
        #expect(wire.sent.last?.message == ringing, "a retransmitted INVITE gets the last provisional")
        let ok = F.response(200, "OK", to: invite)
        #expect(wire.layer.respond(ok, to: invite))
        #expect(wire.layer.count == 0)
        #expect(!wire.layer.respond(ok, to: invite), "the TU retransmits its 2xx itself")
        let ack = F.request(method: "ACK", branch: "z9hG4bK-uac-ack", toTag: "uas-1")
        #expect(wire.layer.receive(ack, from: "pbx:5060") == ack)
        #expect(wire.sent.map(\.message.statusCode) == [100, 180, 180, 200])
    }

    @Test func nonInviteServerAbsorbsAndRepeatsThenLeavesAfterTimerJ() throws {
        let wire = Wire()
        let options = F.request(method: "OPTIONS")
        #expect(wire.layer.receive(options, from: "pbx:5060") == options)
        #expect(wire.layer.receive(options, from: "pbx:5060") == nil)
        #expect(wire.sent.isEmpty, "nothing to repeat before the TU answers, and no automatic 100")
        let ok = F.response(200, "OK", to: options)
        wire.layer.respond(ok, to: options)
        wire.advance(to: .seconds(3))
        #expect(wire.layer.receive(options, from: "pbx:5060") == nil)
        #expect(wire.times { $0 == ok } == Self.ms(0, 3000))
        wire.advance(to: .milliseconds(31999))
        #expect(wire.layer.count == 1)
        wire.advance(to: .seconds(32))
        #expect(wire.layer.count == 0)
        #expect(wire.layer.receive(options, from: "pbx:5060") == options, "a new transaction after Timer J")
    }

    @Test func reliableServerTransactionsEndOnTheFinalResponse() throws {
        let wire = Wire()
        let options = F.request(method: "OPTIONS")
        _ = wire.layer.receive(options, from: "pbx:5060", reliableTransport: true)
        wire.layer.respond(F.response(200, "OK", to: options), to: options)
        #expect(wire.layer.count == 0)
    }

    @Test func cancelFindsThePendingInvite() throws {
        let wire = Wire()
        let invite = F.invite()
        let cancel = F.request(method: "CANCEL")
        _ = wire.layer.receive(invite, from: "pbx:5060")
        #expect(wire.layer.receive(cancel, from: "pbx:5060") == cancel)
        #expect(wire.layer.serverTransactionCount == 2)
        #expect(wire.layer.pendingInvite(cancelledBy: cancel) == invite)
        #expect(wire.layer.respond(F.response(200, "OK", to: cancel), to: cancel))
        #expect(wire.layer.respond(F.response(487, "Request Terminated", to: invite), to: invite))
        #expect(wire.layer.pendingInvite(cancelledBy: cancel) == nil, "the INVITE has its final response")
        #expect(wire.sent.map(\.message.statusCode) == [100, 200, 487])
    }

    @Test func rfc2543AckFindsItsTransactionThroughTheResponseToTag() throws {
        let wire = Wire()
        let invite = F.invite(branch: "2543-branch")
        _ = wire.layer.receive(invite, from: "old-pbx:5060")
        let busy = F.response(486, "Busy Here", to: invite, toTag: "b2b-tag")
        wire.layer.respond(busy, to: invite)
        #expect(wire.layer.receive(invite, from: "old-pbx:5060") == nil, "retransmitted INVITE matches")
        let ack = F.ack(for: invite, response: busy)
        #expect(wire.layer.receive(ack, from: "old-pbx:5060") == nil, "ACK absorbed")
        wire.advance(to: .seconds(30))
        #expect(wire.times { $0 == busy } == Self.ms(0, 0), "the 486 repeated once for the INVITE, then no Timer G")
        #expect(wire.serverFailures.isEmpty)
        #expect(wire.layer.count == 0)
    }

    @Test func requestsWithoutAViaAreDropped() {
        let wire = Wire()
        var options = F.request(method: "OPTIONS")
        options.removeHeader("Via")
        #expect(wire.layer.receive(options, from: "pbx:5060") == nil)
        #expect(wire.layer.count == 0)
    }

    @Test func aRetransmissionDueWithTheTimeoutIsNotSent() throws {
        // With T1 = T2 = 1 s, Timer G's 64th retransmission falls due in the same instant as Timer H: the loop runs
        // both as one batch, H first (armed first), and G must not send after H has ended the transaction.
        let wire = Wire()
        let oneSecond = TransactionLayer<String>(
            eventLoop: wire.loop, settings: TransactionSettings(t1: .seconds(1), t2: .seconds(1))
        ) { message, _ in wire.sent.append(.init(at: wire.now, message: message, to: "pbx")) }
        var failures: [TimeAmount] = []
        oneSecond.onServerFailure = { _, _ in failures.append(wire.now) }
        let invite = F.invite()
        _ = oneSecond.receive(invite, from: "pbx")
        let busy = F.response(486, "Busy Here", to: invite)
        oneSecond.respond(busy, to: invite)
        wire.advance(to: .seconds(100))
        #expect(wire.times { $0 == busy } == (0..<64).map { TimeAmount.seconds($0) })
        #expect(failures == [.seconds(64)])
        #expect(oneSecond.count == 0)
    }

    @Test func callbacksMayCallBackIntoTheLayer() throws {
        // Failover: the TU answers a timeout by trying the next gateway from inside the callback.
        let wire = Wire()
        var attempts: [String] = []
        func attempt(_ destination: String, branch: String) throws {
            attempts.append(destination)
            try wire.layer.sendRequest(
                F.invite(branch: branch), to: destination, reliableTransport: true, onResponse: { _ in },
                onFailure: { _ in if destination == "gw1" { try? attempt("gw2", branch: "z9hG4bK-2") } })
        }
        try attempt("gw1", branch: "z9hG4bK-1")
        wire.advance(to: .seconds(32))
        #expect(attempts == ["gw1", "gw2"])
        #expect(wire.layer.clientTransactionCount == 1, "the first is gone, the second in flight")
        wire.advance(to: .seconds(64))
        #expect(wire.layer.count == 0)
        #expect(wire.sent.map(\.to) == ["gw1", "gw2"])
    }

    @Test func removeAllCancelsEveryTimerSilently() throws {
        let wire = Wire()
        try wire.sendRequest(F.invite())
        _ = wire.layer.receive(F.request(method: "OPTIONS", branch: "z9hG4bK-in"), from: "pbx:5060")
        #expect(wire.layer.count == 2)
        wire.layer.removeAll()
        wire.advance(to: .seconds(60))
        #expect(wire.layer.count == 0)
        #expect(wire.sent.count == 1)
        #expect(wire.failures.isEmpty)
    }
}
