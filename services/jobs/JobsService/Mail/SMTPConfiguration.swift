import Foundation
import NIOSSL
import VoiceFlowCommon

/// How the connection to the SMTP server is secured (`SMTP_SECURE`).
public enum SMTPSecurity: String, Sendable, CaseIterable {
    /// Implicit TLS on port 465; otherwise STARTTLS when the server offers it.
    case auto
    /// Implicit TLS from the first byte (SMTPS, usually port 465).
    case tls
    /// STARTTLS, required: sending fails with ``SMTPError/tlsUnavailable`` if the server does not offer it.
    case starttls
    /// No TLS, for local sinks and relays.
    case none
}

/// A user name and password for SMTP AUTH; the password never appears in descriptions or dumps.
public struct SMTPCredentials: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// The AUTH user name.
    public var username: String
    /// The AUTH password.
    public var password: String

    /// Credentials for AUTH PLAIN or AUTH LOGIN.
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "SMTPCredentials(username: \(username), password: <redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: ["username": username, "password": "<redacted>"]) }
}

/// Where and how the jobs service sends email, read from the environment.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `SMTP_HOST` | (unset: email disabled) | SMTP server |
/// | `SMTP_PORT` | 587 | its port |
/// | `SMTP_SECURE` | auto | `auto` (implicit TLS on 465, else STARTTLS when offered), `tls`, `starttls` (required), `none` |
/// | `SMTP_USER`, `SMTP_PASSWORD` | (unset: no AUTH) | AUTH PLAIN, or LOGIN when only that is offered |
/// | `EMAIL_FROM` (or `SMTP_FROM`) | `VoiceFlow <SMTP_USER>` when that is an address, else `VoiceFlow <no-reply@localhost>` | default sender |
/// | `SMTP_CA_FILE` | (unset) | PEM file of extra trusted roots, for servers with private certificates |
/// | `SMTP_TIMEOUT_SECONDS` | 30 | connect timeout and the wait for each reply |
/// | `SMTP_HELO_NAME` | the host's name if fully qualified, else `[127.0.0.1]` | name sent with EHLO/HELO |
///
/// Credentials are only ever sent over TLS, or in clear to a loopback host (127.0.0.0/8, ::1, localhost).
///
/// ```swift
/// if let smtp = try SMTPConfiguration(environment: EnvironmentReader()) {
///     let mailer = try SMTPClient(configuration: smtp, logger: logger)
/// }
/// ```
public struct SMTPConfiguration: Sendable {
    /// The server's host name or IP address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// How the connection is secured.
    public var security: SMTPSecurity
    /// AUTH credentials, if the server requires them.
    public var credentials: SMTPCredentials?
    /// The sender of messages that do not name one.
    public var from: MailAddress
    /// A PEM file of certificates trusted in addition to the system roots.
    public var trustedRootsFile: String?
    /// The connect timeout and the longest wait for any reply.
    public var timeout: Duration
    /// The name this client gives in EHLO/HELO.
    public var heloName: String

    /// The sender used when neither `EMAIL_FROM`/`SMTP_FROM` nor an address-like `SMTP_USER` is set.
    public static let defaultSender = MailAddress(verbatim: "no-reply@localhost", displayName: "VoiceFlow")

    /// A configuration with explicit values.
    public init(
        host: String,
        port: Int = 587,
        security: SMTPSecurity = .auto,
        credentials: SMTPCredentials? = nil,
        from: MailAddress = SMTPConfiguration.defaultSender,
        trustedRootsFile: String? = nil,
        timeout: Duration = .seconds(30),
        heloName: String = SMTPConfiguration.defaultHeloName()
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.credentials = credentials
        self.from = from
        self.trustedRootsFile = trustedRootsFile
        self.timeout = timeout
        self.heloName = heloName
    }

    /// Reads the `SMTP_*` variables; `nil` when `SMTP_HOST` is unset or empty (email disabled).
    public init?(environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) {
        guard let host = environment.string("SMTP_HOST") else { return nil }
        guard Self.isHostName(host) else {
            throw .invalidValue(key: "SMTP_HOST", reason: "not a host name or IP address")
        }
        let port = try environment.int("SMTP_PORT", default: 587, in: 1...65535)
        guard let security = SMTPSecurity(rawValue: environment.string("SMTP_SECURE", default: "auto").lowercased()) else {
            throw .invalidValue(key: "SMTP_SECURE", reason: "use auto, tls, starttls or none")
        }
        let credentials: SMTPCredentials?
        switch (environment.string("SMTP_USER"), environment.string("SMTP_PASSWORD")) {
        case (nil, nil):
            credentials = nil
        case (let username?, let password?):
            credentials = SMTPCredentials(username: username, password: password)
        case (_?, nil):
            throw .invalidValue(key: "SMTP_PASSWORD", reason: "required when SMTP_USER is set")
        case (nil, _?):
            throw .invalidValue(key: "SMTP_USER", reason: "required when SMTP_PASSWORD is set")
        }
        if credentials != nil && security == .none && !Self.isLoopback(host) {
            throw .invalidValue(key: "SMTP_SECURE", reason: "credentials are never sent unencrypted to a remote host")
        }
        let from: MailAddress
        let fromKey = environment.string("EMAIL_FROM") != nil ? "EMAIL_FROM" : "SMTP_FROM"
        if let text = environment.string(fromKey) {
            do {
                from = try MailAddress(parsing: text, field: fromKey)
            } catch {
                throw .invalidValue(key: fromKey, reason: error.description)
            }
        } else if let username = credentials?.username, let address = try? MailAddress(address: username, displayName: "VoiceFlow") {
            from = address
        } else {
            from = Self.defaultSender
        }
        let trustedRootsFile = environment.string("SMTP_CA_FILE")
        if let trustedRootsFile {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(trustedRootsFile), !certificates.isEmpty else {
                throw .invalidValue(key: "SMTP_CA_FILE", reason: "not a readable PEM certificate file")
            }
        }
        let timeout = Duration.seconds(try environment.int("SMTP_TIMEOUT_SECONDS", default: 30, in: 1...600))
        let heloName = environment.string("SMTP_HELO_NAME") ?? Self.defaultHeloName()
        guard Self.isHostName(heloName) else {
            throw .invalidValue(key: "SMTP_HELO_NAME", reason: "not a host name or address literal")
        }
        self.init(
            host: host, port: port, security: security, credentials: credentials, from: from,
            trustedRootsFile: trustedRootsFile, timeout: timeout, heloName: heloName)
    }

    /// Whether the connection starts with TLS (SMTPS) rather than plain text.
    var usesImplicitTLS: Bool {
        security == .tls || (security == .auto && port == 465)
    }

    /// The host without the brackets of an IPv6 literal (`[::1]` → `::1`).
    var connectableHost: String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// This machine's name when it is fully qualified, else the address literal `[127.0.0.1]`
    /// (what RFC 5321 §4.1.4 suggests when a client has no meaningful name).
    public static func defaultHeloName() -> String {
        let name = ProcessInfo.processInfo.hostName
        return name.contains(".") && isHostName(name) && !name.hasSuffix(".") ? name : "[127.0.0.1]"
    }

    /// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
    static func isLoopback(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        if host == "localhost" || host == "localhost." || host == "::1" || host == "0:0:0:0:0:0:0:1" {
            return true
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    private static let hostCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:[]".unicodeScalars)

    private static func isHostName(_ text: String) -> Bool {
        (1...253).contains(text.utf8.count) && text.unicodeScalars.allSatisfy(hostCharacters.contains)
    }
}
