import Foundation
import NIOCore
import NIOSSL
import SIPCore

/// The TLS contexts of one configuration snapshot: one server context per TLS listener and one client context per
/// TLS peer, built when the site loads, so a bad certificate, key or CA file is refused by `patchbay check` and by a
/// reload (the contexts in force stay) with the file named, never discovered at the first handshake. A reload
/// builds them again from the files, which is how a renewed certificate is put in force without a restart: new
/// connections use it, open connections keep theirs.
public struct TLSContexts: Sendable {
    /// By listener index among the TLS listeners.
    public private(set) var servers: [NIOSSLContext] = []
    /// By peer name, with the name checked in its certificate (nil: its IP address).
    public private(set) var clients: [String: (context: NIOSSLContext, serverName: String?)] = [:]
    public private(set) var warnings: [String] = []

    public init() {}

    public init(configuration: PatchbayConfiguration, diagnostics: Diagnostics) {
        let tlsListeners = configuration.listeners.compactMap(\.tls)
        for listener in tlsListeners {
            do {
                var c = TLSConfiguration.makeServerConfiguration(
                    certificateChain: try Self.chain(listener.certificate),
                    privateKey: .privateKey(try Self.key(listener.privateKey)))
                switch listener.verifyClients {
                case .required: c.certificateVerification = .noHostnameVerification
                case .optional: c.certificateVerification = .optionalVerification
                case .none: c.certificateVerification = .none
                }
                if let ca = listener.clientCA { c.trustRoots = .certificates(try Self.certificates(ca)) }
                servers.append(try NIOSSLContext(configuration: c))
            } catch {
                diagnostics.error(listener.position, "TLS listener: \(error)")
            }
        }
        for peer in configuration.peers where peer.transport == .tls {
            let settings = peer.tls ?? PatchbayConfiguration.PeerTLS(position: peer.position)
            do {
                var c = TLSConfiguration.makeClientConfiguration()
                switch settings.verify {
                case .full: c.certificateVerification = .fullVerification
                case .chain: c.certificateVerification = .noHostnameVerification
                case .none:
                    c.certificateVerification = .none
                    warnings.append("peer '\(peer.name)': TLS server certificate is not verified (verify: none)")
                }
                if let ca = settings.ca { c.trustRoots = .certificates(try Self.certificates(ca)) }
                // Mutual TLS: the peer's own client certificate, else the site's (the first TLS listener's).
                if let cert = settings.certificate ?? tlsListeners.first?.certificate,
                    let key = settings.privateKey ?? tlsListeners.first?.privateKey
                {
                    c.certificateChain = try Self.chain(cert)
                    c.privateKey = .privateKey(try Self.key(key))
                }
                let name = settings.serverName ?? peer.addresses.first?.host
                // SNI carries host names only; an IP address is checked against the certificate's IP entries.
                let sni = name.flatMap { (try? SocketAddress(ipAddress: $0, port: 0)) == nil ? $0 : nil }
                clients[peer.name] = (try NIOSSLContext(configuration: c), sni)
            } catch {
                diagnostics.error(settings.position, "peer '\(peer.name)': TLS: \(error)")
            }
        }
    }

    /// Every file the contexts were read from, for the reloader to watch.
    public static func files(of configuration: PatchbayConfiguration) -> [String] {
        configuration.listeners.compactMap(\.tls).flatMap {
            [$0.certificate, $0.privateKey] + ($0.clientCA.map { [$0] } ?? [])
        }
            + configuration.peers.compactMap(\.tls).flatMap {
                [$0.ca, $0.certificate, $0.privateKey].compactMap { $0 }
            }
    }

    private struct FileError: Error, CustomStringConvertible {
        var description: String
    }

    private static func read(_ path: String, what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
            throw FileError(description: "cannot read \(what) '\(path)'")
        }
        return Array(data)
    }

    private static func certificates(_ path: String) throws -> [NIOSSLCertificate] {
        let bytes = try read(path, what: "certificate file")
        do {
            let certs = try NIOSSLCertificate.fromPEMBytes(bytes)
            guard !certs.isEmpty else { throw FileError(description: "no PEM certificate in '\(path)'") }
            return certs
        } catch let e as FileError {
            throw e
        } catch {
            throw FileError(description: "'\(path)' is not a PEM certificate file (\(error))")
        }
    }

    private static func chain(_ path: String) throws -> [NIOSSLCertificateSource] {
        try certificates(path).map { .certificate($0) }
    }

    private static func key(_ path: String) throws -> NIOSSLPrivateKey {
        let bytes = try read(path, what: "private key file")
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw FileError(description: "'\(path)' is not a PEM private key (\(error))")
        }
    }
}
