import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import TestSupport
import Testing
import VoiceFlowCommon

@testable import JobsService

/// The SMTP client against aiosmtpd (Tests/support/smtp_sink.py), a real third-party server, plus
/// byte-level tests of the reply parser and the DATA encoding.
@Suite(.timeLimit(.minutes(2)))
struct SMTPClientTests {
    let logger = TestEnvironment.logger("smtp-test")

    // MARK: Delivery

    @Test func plainSendDeliversHeadersAndUnicodeBodyToEveryRecipient() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let subject = "Bienvenue, Zoë 👋 — votre espace VoiceFlow est prêt, avec un sujet assez long pour être plié"
        let text = "Bienvenue, Zoë 👋\n.this line starts with a dot\n.\nLast line, no newline"
        let client = try SMTPClient(configuration: sink.configuration(), logger: logger)

        try await client.send(
            MailMessage(
                from: "Équipe VoiceFlow <team@voiceflow.test>", to: ["Zoë Dupont <zoe@example.com>", "sam@example.org"],
                subject: subject, text: text))

        let messages = try sink.messages()
        try #require(messages.count == 1)
        let mail = try ParsedMail(messages[0])
        #expect(mail.decodedHeader("From") == "Équipe VoiceFlow <team@voiceflow.test>")
        #expect(mail.decodedHeader("To") == "Zoë Dupont <zoe@example.com>, sam@example.org")
        #expect(mail.decodedHeader("Subject") == subject)
        #expect(mail.header("MIME-Version") == "1.0")
        #expect(mail.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(mail.header("Content-Transfer-Encoding") == "base64")
        #expect(mail.header("Message-ID")?.hasSuffix("@voiceflow.test>") == true)
        let date = try #require(mail.header("Date").flatMap(ParsedMail.rfc5322Date))
        #expect(abs(date.timeIntervalSinceNow) < 300)
        #expect(mail.headerLines.allSatisfy { line in line.utf8.allSatisfy { $0 < 0x80 } && line.utf8.count <= 998 })
        #expect(mail.bodyLines.allSatisfy { $0.utf8.count <= 76 })
        #expect(mail.decodedBody == text.replacingOccurrences(of: "\n", with: "\r\n"))

        let envelope = try sink.envelopes()[0]
        #expect(envelope.mail_from == "team@voiceflow.test")
        #expect(envelope.rcpt_tos == ["zoe@example.com", "sam@example.org"])
        #expect(envelope.tls == false)
    }

    @Test func asciiBodyTravelsAs7bitAndSurvivesDotStuffing() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let client = try SMTPClient(configuration: sink.configuration(), logger: logger)

        // Unstuffed, the lone "." line would end DATA early and the next line would reach the server as a command.
        try await client.send(
            MailMessage(to: ["zoe@example.com"], subject: "Dots", text: "First\n.leading dot\n.\n..two dots\r\nend\n"))

        let mail = try ParsedMail(try #require(sink.messages().first))
        #expect(mail.header("Content-Transfer-Encoding") == "7bit")
        #expect(mail.body == "First\r\n.leading dot\r\n.\r\n..two dots\r\nend\r\n")
        #expect(mail.decodedHeader("From") == "VoiceFlow <no-reply@localhost>")
    }

    @Test(arguments: [("localhost", SMTPSecurity.starttls), ("127.0.0.1", SMTPSecurity.auto)])
    func startTLSWithAuthPlainDelivers(host: String, security: SMTPSecurity) async throws {
        let tls = try SelfSignedCertificate()
        let sink = try await SMTPSink.start(tls: tls, auth: "mailer:s3cret pass")
        defer { sink.stop() }
        var configuration = sink.configuration(host: host, security: security, credentials: ("mailer", "s3cret pass"))
        configuration.trustedRootsFile = tls.certificate

        try await SMTPClient(configuration: configuration, logger: logger)
            .send(MailMessage(to: ["zoe@example.com"], subject: "Over TLS", text: "Secret"))

        let envelopes = try sink.envelopes()
        #expect(envelopes.count == 1)
        #expect(envelopes.first?.tls == true)
        #expect(envelopes.first?.login == "mailer")
    }

    @Test func authLoginIsUsedWhenPlainIsNotOffered() async throws {
        let tls = try SelfSignedCertificate()
        let sink = try await SMTPSink.start(tls: tls, auth: "mailer:pw", extraArguments: ["--auth-mechanisms", "LOGIN"])
        defer { sink.stop() }
        var configuration = sink.configuration(host: "localhost", security: .starttls, credentials: ("mailer", "pw"))
        configuration.trustedRootsFile = tls.certificate

        try await SMTPClient(configuration: configuration, logger: logger)
            .send(MailMessage(to: ["zoe@example.com"], subject: "Login", text: "Hi"))

        #expect(try sink.envelopes().map(\.login) == ["mailer"])
    }

    @Test func implicitTLSDelivers() async throws {
        let tls = try SelfSignedCertificate()
        let sink = try await SMTPSink.start(tls: tls, auth: "mailer:pw", extraArguments: ["--implicit-tls"])
        defer { sink.stop() }
        var configuration = sink.configuration(host: "localhost", security: .tls, credentials: ("mailer", "pw"))
        configuration.trustedRootsFile = tls.certificate

        try await SMTPClient(configuration: configuration, logger: logger)
            .send(MailMessage(to: ["zoe@example.com"], subject: "SMTPS", text: "Hi"))

        #expect(try sink.envelopes().map(\.tls) == [true])
    }

    // MARK: Refusals

    @Test func wrongPasswordIsAPermanentRejectionAndDeliversNothing() async throws {
        let tls = try SelfSignedCertificate()
        let sink = try await SMTPSink.start(tls: tls, auth: "mailer:right")
        defer { sink.stop() }
        var configuration = sink.configuration(host: "localhost", security: .starttls, credentials: ("mailer", "wrong"))
        configuration.trustedRootsFile = tls.certificate
        let client = try SMTPClient(configuration: configuration, logger: logger)

        let error = await #expect(throws: SMTPError.self) {
            try await client.send(MailMessage(to: ["zoe@example.com"], subject: "No", text: "No"))
        }
        guard case .rejected(step: .authentication, code: 535, _) = error else {
            Issue.record("expected a 535 rejection at AUTH, got \(String(describing: error))")
            return
        }
        #expect(error?.isPermanent == true)
        #expect(try sink.messages().isEmpty)
    }

    @Test func untrustedCertificateFailsTheHandshakeInsteadOfFallingBack() async throws {
        let sink = try await SMTPSink.start(tls: try SelfSignedCertificate())
        defer { sink.stop() }
        let client = try SMTPClient(configuration: sink.configuration(host: "localhost", security: .auto), logger: logger)

        let error = await #expect(throws: SMTPError.self) {
            try await client.send(MailMessage(to: ["zoe@example.com"], subject: "No", text: "No"))
        }
        guard case .tlsFailed = error else {
            Issue.record("expected a TLS failure, got \(String(describing: error))")
            return
        }
        #expect(error?.isPermanent == false)
        #expect(try sink.messages().isEmpty)
    }

    @Test func requiredSTARTTLSThatIsNotOfferedFails() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let client = try SMTPClient(configuration: sink.configuration(security: .starttls), logger: logger)

        await #expect(throws: SMTPError.tlsUnavailable) {
            try await client.send(MailMessage(to: ["zoe@example.com"], subject: "No", text: "No"))
        }
        #expect(try sink.messages().isEmpty)
    }

    @Test func credentialsAreNeverSentInClearToARemoteHost() async throws {
        // TEST-NET-1: were a connection attempted, the error would be a connection failure or a timeout.
        let configuration = SMTPConfiguration(
            host: "192.0.2.1", port: 25, security: .none, credentials: SMTPCredentials(username: "u", password: "p"),
            timeout: .seconds(1))
        let client = try SMTPClient(configuration: configuration, logger: logger)

        await #expect(throws: SMTPError.insecureCredentials(host: "192.0.2.1")) {
            try await client.send(MailMessage(to: ["zoe@example.com"], subject: "No", text: "No"))
        }
        #expect(SMTPError.insecureCredentials(host: "192.0.2.1").isPermanent)
        for host in ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "LOCALHOST"] {
            #expect(SMTPConfiguration.isLoopback(host), "\(host)")
        }
        for host in ["192.0.2.1", "mail.example.com", "localhost.example.com", "128.0.0.1", "::2", "127.0.0.1.example.com"] {
            #expect(!SMTPConfiguration.isLoopback(host), "\(host)")
        }
    }

    @Test(arguments: [
        MailMessage(to: ["zoe@example.com"], subject: "Hi\r\nBcc: victim@example.com", text: "x"),
        MailMessage(to: ["zoe@example.com"], subject: "Hi\nBcc: victim@example.com", text: "x"),
        MailMessage(to: ["zoe@example.com\r\nBcc: victim@example.com"], subject: "Hi", text: "x"),
        MailMessage(to: ["Zoë\r\nBcc: victim@example.com <zoe@example.com>"], subject: "Hi", text: "x"),
        MailMessage(from: "a@example.com>\r\nRCPT TO:<victim@example.com", to: ["zoe@example.com"], subject: "Hi", text: "x"),
        MailMessage(to: ["zoe@example.com> NOTIFY=NEVER"], subject: "Hi", text: "x"),
        MailMessage(to: ["zoe @example.com"], subject: "Hi", text: "x"),
        MailMessage(to: [], subject: "Hi", text: "x"),
    ])
    func invalidHeadersAndAddressesAreRefusedBeforeConnecting(message: MailMessage) async throws {
        // Nothing listens on port 1: were a connection attempted, the error would be a connection failure.
        let client = try SMTPClient(configuration: SMTPConfiguration(host: "127.0.0.1", port: 1, security: .none), logger: logger)

        let error = await #expect(throws: SMTPError.self) { try await client.send(message) }
        switch error {
        case .invalidHeader?, .invalidAddress?:
            #expect(error?.isPermanent == true)
        default:
            Issue.record("expected an invalid header or address, got \(String(describing: error))")
        }
    }

    @Test func serverThatNeverAnswersTimesOut() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let port = try #require(silent.localAddress?.port)
        let client = try SMTPClient(
            configuration: SMTPConfiguration(host: "127.0.0.1", port: port, security: .none, timeout: .seconds(1)), logger: logger)

        let started = ContinuousClock.now
        await #expect(throws: SMTPError.timeout(step: .greeting)) {
            try await client.send(MailMessage(to: ["zoe@example.com"], subject: "Hi", text: "x"))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(!SMTPError.timeout(step: .greeting).isPermanent)
    }

    // MARK: Configuration

    @Test func configurationFromEnvironment() throws {
        #expect(try SMTPConfiguration(environment: EnvironmentReader([:])) == nil)
        #expect(try SMTPConfiguration(environment: EnvironmentReader(["SMTP_HOST": " "])) == nil)

        let defaults = try #require(try SMTPConfiguration(environment: EnvironmentReader(["SMTP_HOST": "mail.example.com"])))
        #expect(defaults.port == 587 && defaults.security == .auto && defaults.credentials == nil)
        #expect(defaults.from == SMTPConfiguration.defaultSender && defaults.timeout == .seconds(30))
        #expect(defaults.trustedRootsFile == nil)
        #expect(!defaults.usesImplicitTLS)

        let full = try #require(
            try SMTPConfiguration(
                environment: EnvironmentReader([
                    "SMTP_HOST": "smtp.example.com", "SMTP_PORT": "465", "SMTP_SECURE": "AUTO", "SMTP_USER": "bot@example.com",
                    "SMTP_PASSWORD": "hunter2-secret", "SMTP_TIMEOUT_SECONDS": "5", "SMTP_HELO_NAME": "jobs.example.com",
                ])))
        #expect(full.port == 465 && full.usesImplicitTLS && full.timeout == .seconds(5) && full.heloName == "jobs.example.com")
        #expect(full.credentials == SMTPCredentials(username: "bot@example.com", password: "hunter2-secret"))
        #expect(full.from == (try MailAddress(parsing: "VoiceFlow <bot@example.com>")))
        #expect(!String(describing: full.credentials).contains("hunter2"))
        #expect(!String(reflecting: full).contains("hunter2"))

        let explicit = try #require(
            try SMTPConfiguration(environment: EnvironmentReader(["SMTP_HOST": "h", "SMTP_FROM": "\"Doe, Jo\" <jo@example.com>"])))
        #expect(explicit.from == (try MailAddress(address: "jo@example.com", displayName: "Doe, Jo")))

        let invalid: [(String, [String: String])] = [
            ("SMTP_SECURE", ["SMTP_SECURE": "ssl"]),
            ("SMTP_PORT", ["SMTP_PORT": "0"]),
            ("SMTP_PORT", ["SMTP_PORT": "smtp"]),
            ("SMTP_TIMEOUT_SECONDS", ["SMTP_TIMEOUT_SECONDS": "0"]),
            ("SMTP_FROM", ["SMTP_FROM": "VoiceFlow"]),
            ("SMTP_FROM", ["SMTP_FROM": "a@b\r\nBcc: c@d"]),
            ("SMTP_PASSWORD", ["SMTP_USER": "u"]),
            ("SMTP_USER", ["SMTP_PASSWORD": "p"]),
            ("SMTP_SECURE", ["SMTP_SECURE": "none", "SMTP_USER": "u", "SMTP_PASSWORD": "p"]),
            ("SMTP_CA_FILE", ["SMTP_CA_FILE": "/nonexistent/ca.pem"]),
            ("SMTP_HOST", ["SMTP_HOST": "mail.example.com/evil"]),
        ]
        for (key, values) in invalid {
            var environment = ["SMTP_HOST": "mail.example.com"]
            environment.merge(values) { _, new in new }
            #expect(performing: { try SMTPConfiguration(environment: EnvironmentReader(environment)) }, throws: { error in
                guard case ConfigurationError.invalidValue(let failing, _) = error else { return false }
                return failing == key
            })
        }
        // Credentials in clear are fine to a loopback relay.
        let local = try SMTPConfiguration(
            environment: EnvironmentReader(["SMTP_HOST": "127.0.0.1", "SMTP_SECURE": "none", "SMTP_USER": "u", "SMTP_PASSWORD": "p"]))
        #expect(local?.security == SMTPSecurity.none)
    }

    // MARK: Wire format

    @Test func replyParserJoinsMultiLineRepliesAcrossReads() throws {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer(string: "220 smtp.example ESMTP\r\n250-smtp.example\r\n250-AUTH PLAIN LOGIN\r\n25")

        #expect(try parser.nextReply(from: &buffer) == SMTPReply(code: 220, lines: ["smtp.example ESMTP"]))
        #expect(try parser.nextReply(from: &buffer) == nil)
        buffer.writeString("0-STARTTLS\r\n250 HELP\n354\r\n")
        let ehlo = try #require(try parser.nextReply(from: &buffer))
        #expect(ehlo == SMTPReply(code: 250, lines: ["smtp.example", "AUTH PLAIN LOGIN", "STARTTLS", "HELP"]))
        #expect(SMTPCapabilities(ehlo: ehlo).supports("STARTTLS"))
        #expect(SMTPCapabilities(ehlo: ehlo).authenticationMechanisms == ["PLAIN", "LOGIN"])
        #expect(try parser.nextReply(from: &buffer) == SMTPReply(code: 354, lines: [""]))
        #expect(try parser.nextReply(from: &buffer) == nil)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: ["hello\r\n", "250-a\r\n251 b\r\n", "250_x\r\n", "650 x\r\n", String(repeating: "2", count: 3000)])
    func replyParserRefusesWhatIsNotSMTP(input: String) throws {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer(string: input)
        #expect(throws: SMTPWireError.self) {
            while try parser.nextReply(from: &buffer) != nil {}
        }
    }

    @Test func dataIsDotStuffedAndTerminated() {
        #expect(String(buffer: SMTPRequest.data("a\r\n.b\r\n.\r\n..c")) == "a\r\n..b\r\n..\r\n...c\r\n.\r\n")
        #expect(String(buffer: SMTPRequest.data(".first\r\n")) == "..first\r\n.\r\n")
    }

    @Test func encodedWordsNeverSplitACharacterAndStayShort() {
        let subject = String(repeating: "é👋", count: 40)
        let words = MIME.encodedWords(subject)
        #expect(words.count > 1)
        #expect(words.allSatisfy { $0.count <= 75 && $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        let decoded = words.map { word in
            let base64 = String(word.dropFirst(10).dropLast(2))
            return String(data: Data(base64Encoded: base64) ?? Data(), encoding: .utf8)
        }
        #expect(decoded.allSatisfy { $0 != nil })
        #expect(decoded.compactMap { $0 }.joined() == subject)
        #expect(MIME.phrase("Doe, \"Jo\"") == #""Doe, \"Jo\"""#)
        #expect(MIME.date(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
    }
}

// MARK: - Helpers

/// A message as the sink stored it, split and decoded with Foundation.
struct ParsedMail {
    /// The header lines, unfolded.
    var headerLines: [String]
    /// The body as received (before transfer decoding).
    var body: String

    init(_ data: Data) throws {
        let raw = try #require(String(data: data, encoding: .utf8))
        let parts = raw.components(separatedBy: "\r\n\r\n")
        try #require(parts.count >= 2, "no blank line after the headers")
        headerLines = parts[0].replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n")
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
    }

    /// The body's lines.
    var bodyLines: [String] { body.components(separatedBy: "\r\n") }

    /// The raw value of header `name`.
    func header(_ name: String) -> String? {
        let prefix = name.lowercased() + ":"
        return headerLines.first { $0.lowercased().hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
    }

    /// The value of header `name` with RFC 2047 encoded-words decoded (whitespace between adjacent words dropped).
    func decodedHeader(_ name: String) -> String? {
        guard let value = header(name) else { return nil }
        let word = #/=\?(?i:utf-8)\?(?i:b)\?([A-Za-z0-9+\/=]*)\?=/#
        var result = ""
        var rest = value[...]
        var afterWord = false
        while let match = rest.firstMatch(of: word) {
            let between = rest[..<match.range.lowerBound]
            if !(afterWord && between.allSatisfy(\.isWhitespace)) { result += between }
            result += String(decoding: Data(base64Encoded: String(match.1)) ?? Data(), as: UTF8.self)
            rest = rest[match.range.upperBound...]
            afterWord = true
        }
        return result + rest
    }

    /// The body after base64 decoding.
    var decodedBody: String? {
        Data(base64Encoded: body.replacingOccurrences(of: "\r\n", with: "")).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// Parses an RFC 5322 date as the client writes it.
    static func rfc5322Date(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.date(from: text)
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1, made with `openssl` in a temporary directory.
struct SelfSignedCertificate {
    let certificate: String
    let key: String

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-tls-\(TestEnvironment.uniqueSuffix())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificate = directory.appendingPathComponent("cert.pem").path
        key = directory.appendingPathComponent("key.pem").path
        let status = try ChildProcess.run(
            try ChildProcess.executable(named: "openssl"),
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1", "-keyout", key, "-out", certificate,
            ])
        try #require(status == 0, "openssl could not make a self-signed certificate")
    }
}

/// What the sink wrote next to each message.
struct SinkEnvelope: Decodable {
    var mail_from: String
    var rcpt_tos: [String]
    var login: String?
    var tls: Bool
}

/// Tests/support/smtp_sink.py (aiosmtpd) as a child process on a free port, writing to a private maildir.
///
/// Its stored properties never change after `start`, and reading the maildir is safe from any task,
/// so tests may use it from inside the `@Sendable` closures of their harnesses.
final class SMTPSink: @unchecked Sendable {
    let port: Int
    let maildir: URL
    private let process: Process
    private let stdin: Pipe
    private let exited: DispatchSemaphore

    private init(port: Int, maildir: URL, process: Process, stdin: Pipe, exited: DispatchSemaphore) {
        self.port = port
        self.maildir = maildir
        self.process = process
        self.stdin = stdin
        self.exited = exited
    }

    /// Starts the sink and waits for its `READY <port>` line.
    static func start(tls: SelfSignedCertificate? = nil, auth: String? = nil, extraArguments: [String] = []) async throws -> SMTPSink {
        let python = try ChildProcess.pythonWithAiosmtpd()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-sink-\(TestEnvironment.uniqueSuffix())")
        let maildir = directory.appendingPathComponent("mail")
        try FileManager.default.createDirectory(at: maildir, withIntermediateDirectories: true)
        let errorLog = directory.appendingPathComponent("stderr.log")
        guard FileManager.default.createFile(atPath: errorLog.path, contents: nil) else {
            throw ChildProcessError("cannot create \(errorLog.path)")
        }

        var arguments = [ChildProcess.packageRoot.appendingPathComponent("Tests/support/smtp_sink.py").path]
        arguments += ["--port", "0", "--maildir", maildir.path, "--stop-on-stdin-eof"]
        if let tls { arguments += ["--starttls-cert", tls.certificate, "--starttls-key", tls.key] }
        if let auth { arguments += ["--auth", auth] }
        let process = Process()
        process.executableURL = python
        process.arguments = arguments + extraArguments
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        process.standardError = try FileHandle(forWritingTo: errorLog)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        let line = await ChildProcess.firstLine(of: stdout.fileHandleForReading)
        guard let line, line.hasPrefix("READY "), let port = Int(line.dropFirst(6)) else {
            kill(process.processIdentifier, SIGKILL)
            let errors = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            throw ChildProcessError("smtp_sink.py did not start (stdout: \(line ?? "<eof>")); stderr:\n\(errors)")
        }
        return SMTPSink(port: port, maildir: maildir, process: process, stdin: stdin, exited: exited)
    }

    /// A configuration for this sink: no TLS, a 10 s timeout.
    func configuration(
        host: String = "127.0.0.1", security: SMTPSecurity = .none, credentials: (String, String)? = nil
    ) -> SMTPConfiguration {
        SMTPConfiguration(
            host: host, port: port, security: security,
            credentials: credentials.map { SMTPCredentials(username: $0.0, password: $0.1) }, timeout: .seconds(10))
    }

    /// The raw messages received, in order.
    func messages() throws -> [Data] {
        try files(withExtension: "eml").map { try Data(contentsOf: $0) }
    }

    /// The envelopes of the messages received, in order.
    func envelopes() throws -> [SinkEnvelope] {
        try files(withExtension: "json").map { try JSONDecoder().decode(SinkEnvelope.self, from: Data(contentsOf: $0)) }
    }

    /// Stops the sink (stdin closed, then SIGTERM; SIGKILL if it lingers) and deletes its files.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        if exited.wait(timeout: .now() + .seconds(10)) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
        }
        try? FileManager.default.removeItem(at: maildir.deletingLastPathComponent())
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private func files(withExtension suffix: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: maildir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == suffix }
            .sorted { (Int($0.deletingPathExtension().lastPathComponent) ?? 0) < (Int($1.deletingPathExtension().lastPathComponent) ?? 0) }
    }
}

/// Finding and running the programs the tests need.
enum ChildProcess {
    /// The package's root directory.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `VOICEFLOW_PYTHON`, else the first of `.data/venv/bin/python` and `python3` that can import aiosmtpd.
    static func pythonWithAiosmtpd() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["VOICEFLOW_PYTHON"], !configured.isEmpty {
            let python = URL(fileURLWithPath: configured)
            guard canImportAiosmtpd(python) else {
                throw ChildProcessError("VOICEFLOW_PYTHON=\(configured) cannot import aiosmtpd (pip install aiosmtpd==1.4.6)")
            }
            return python
        }
        let candidates = [packageRoot.appendingPathComponent(".data/venv/bin/python")] + ((try? [executable(named: "python3")]) ?? [])
        guard let python = candidates.first(where: canImportAiosmtpd) else {
            throw ChildProcessError(
                "No Python with aiosmtpd for the SMTP tests: set VOICEFLOW_PYTHON, or pip install aiosmtpd==1.4.6 into .data/venv")
        }
        return python
    }

    /// The first executable called `name` on `PATH`.
    static func executable(named name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ChildProcessError("\(name) is not on PATH")
    }

    /// Runs `executable` to completion, output discarded, and returns its exit status.
    static func run(_ executable: URL, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The first line `handle` yields, read on a thread of its own (the read blocks); `nil` at EOF.
    static func firstLine(of handle: FileHandle) async -> String? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var line: [UInt8] = []
                while true {
                    let byte = handle.readData(ofLength: 1)
                    guard let first = byte.first else {
                        continuation.resume(returning: nil)
                        return
                    }
                    if first == UInt8(ascii: "\n") {
                        continuation.resume(returning: String(decoding: line, as: UTF8.self))
                        return
                    }
                    line.append(first)
                }
            }
        }
    }

    private static func canImportAiosmtpd(_ python: URL) -> Bool {
        FileManager.default.isExecutableFile(atPath: python.path) && (try? run(python, ["-c", "import aiosmtpd"])) == 0
    }
}

struct ChildProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
