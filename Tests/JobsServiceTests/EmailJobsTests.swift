import Foundation
import TestSupport
import Testing
import VoiceFlowJobQueue

@testable import JobsService

/// The welcome email job, run by a real worker, sending to the aiosmtpd sink.
@Suite(.timeLimit(.minutes(3))) struct EmailJobsTests {
    static let links = EmailJobs.Links(signIn: "https://chat.example.com")

    static func handlers(_ harness: SystemJobsTests.Harness, smtp: SMTPClient?) -> JobHandlers {
        var handlers = JobHandlers()
        EmailJobs.register(in: &handlers, postgres: harness.client, smtp: smtp, links: links, logger: harness.logger)
        return handlers
    }

    static func welcome(_ user: UUID) throws -> (data: String, options: JobOptions) {
        let job = PlatformJobs.WelcomeEmail(userId: user)
        var options = job.options
        options.backoff = .fixed(.milliseconds(10))
        return (try job.encoded(), options)
    }

    @Test func aNewUserIsWelcomedByNameAtTheirAddress() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        try await SystemJobsTests.withHarness { harness in
            let user = try await harness.makeUser()
            let smtp = try SMTPClient(configuration: sink.configuration(), logger: harness.logger)
            let (data, options) = try Self.welcome(user.id)
            let job = try await harness.run(
                PlatformJobs.WelcomeEmail.name, data: data, options: options, handlers: Self.handlers(harness, smtp: smtp))
            #expect(job["state"] == "completed")
            let envelopes = try sink.envelopes()
            #expect(envelopes.map(\.rcpt_tos) == [[user.email]])
            let mail = try ParsedMail(try #require(sink.messages().first))
            #expect(mail.decodedHeader("Subject") == "Welcome to VoiceFlow, \(user.username)")
            #expect(mail.decodedHeader("To") == user.email)
            let body = try #require(mail.header("Content-Transfer-Encoding") == "base64" ? mail.decodedBody : mail.body)
            #expect(body.contains("Hi \(user.username),"))
            #expect(body.contains(Self.links.signIn))
        }
    }

    @Test func guestsAndMissingSettingsSendNothingAndDeletedUsersAreDead() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        try await SystemJobsTests.withHarness { harness in
            let smtp = try SMTPClient(configuration: sink.configuration(), logger: harness.logger)
            let guest = try await harness.makeUser(guest: true)
            let (guestData, options) = try Self.welcome(guest.id)
            let guestJob = try await harness.run(
                PlatformJobs.WelcomeEmail.name, data: guestData, options: options, handlers: Self.handlers(harness, smtp: smtp))
            #expect(guestJob["state"] == "completed")

            let user = try await harness.makeUser()
            let (userData, _) = try Self.welcome(user.id)
            let unconfigured = try await harness.run(
                PlatformJobs.WelcomeEmail.name, data: userData, options: options, handlers: Self.handlers(harness, smtp: nil))
            #expect(unconfigured["state"] == "completed")

            let (goneData, _) = try Self.welcome(UUID())
            let gone = try await harness.run(
                PlatformJobs.WelcomeEmail.name, data: goneData, options: options, handlers: Self.handlers(harness, smtp: smtp))
            #expect(gone["state"] == "failed")
            #expect(gone["attemptsMade"] == "1")
            #expect(gone["failedReason"]?.contains("no longer exists") == true)
            #expect(try sink.messages().isEmpty)
        }
    }

    @Test func aPermanentRefusalIsDeadAtOnceAndATransientOneIsRetried() async throws {
        let sink = try await SMTPSink.start(auth: "mailer:right-password", extraArguments: ["--allow-plain-auth"])
        defer { sink.stop() }
        try await SystemJobsTests.withHarness { harness in
            let user = try await harness.makeUser()
            let (data, options) = try Self.welcome(user.id)
            // Rejected credentials (535) cannot get better by retrying.
            let refused = try SMTPClient(configuration: sink.configuration(credentials: ("mailer", "wrong")), logger: harness.logger)
            let dead = try await harness.run(
                PlatformJobs.WelcomeEmail.name, data: data, options: options, handlers: Self.handlers(harness, smtp: refused))
            #expect(dead["state"] == "failed")
            #expect(dead["attemptsMade"] == "1")
            #expect(dead["failedReason"]?.contains("535") == true)

            // Nothing listens on this port: a network failure, tried as often as the job allows.
            var unreachable = sink.configuration()
            unreachable.port = 9
            var twoTries = options
            twoTries.attempts = 2
            let retried = try await harness.run(
                PlatformJobs.WelcomeEmail.name, data: data, options: twoTries,
                handlers: Self.handlers(harness, smtp: try SMTPClient(configuration: unreachable, logger: harness.logger)))
            #expect(retried["state"] == "failed")
            #expect(retried["attemptsMade"] == "2")
            #expect(try sink.messages().isEmpty)
        }
    }

    @Test func anEmailChangeConfirmationGoesToTheNewAddressWithItsToken() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        try await SystemJobsTests.withHarness { harness in
            let user = try await harness.makeUser()
            let smtp = try SMTPClient(configuration: sink.configuration(), logger: harness.logger)
            let newEmail = "new.\(TestEnvironment.uniqueSuffix())@example.com"
            let token = "tok_\(TestEnvironment.uniqueSuffix())"
            let confirmation = PlatformJobs.EmailChangeConfirmation(
                userId: user.id, newEmail: newEmail, token: token, expiresAt: Date().addingTimeInterval(3600))
            var options = confirmation.options
            options.backoff = .fixed(.milliseconds(10))
            let job = try await harness.run(
                PlatformJobs.EmailChangeConfirmation.name, data: try confirmation.encoded(), options: options,
                handlers: Self.handlers(harness, smtp: smtp))
            #expect(job["state"] == "completed")
            #expect(try sink.envelopes().map(\.rcpt_tos) == [[newEmail]])
            let mail = try ParsedMail(try #require(sink.messages().first))
            #expect(mail.decodedHeader("To") == newEmail)
            let body = try #require(mail.header("Content-Transfer-Encoding") == "base64" ? mail.decodedBody : mail.body)
            #expect(body.contains("Hi \(user.username),"))
            #expect(body.contains("\(Self.links.signIn)/#confirm-email=\(token)"))

            // Once expired, nothing is sent.
            var late = confirmation
            late.expiresAt = Date().addingTimeInterval(-1)
            let expired = try await harness.run(
                PlatformJobs.EmailChangeConfirmation.name, data: try late.encoded(), options: options,
                handlers: Self.handlers(harness, smtp: smtp))
            #expect(expired["state"] == "completed")
            #expect(try sink.messages().count == 1)
        }
    }

    @Test func anEmailChangeNoticeTellsTheHolderWithoutAToken() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        try await SystemJobsTests.withHarness { harness in
            let holder = try await harness.makeUser()
            let smtp = try SMTPClient(configuration: sink.configuration(), logger: harness.logger)
            let notice = PlatformJobs.EmailChangeNotice(userId: holder.id)
            var options = notice.options(day: "2026-01-01")
            options.jobID = nil
            options.backoff = .fixed(.milliseconds(10))
            let job = try await harness.run(
                PlatformJobs.EmailChangeNotice.name, data: try notice.encoded(), options: options,
                handlers: Self.handlers(harness, smtp: smtp))
            #expect(job["state"] == "completed")
            #expect(try sink.envelopes().map(\.rcpt_tos) == [[holder.email]])
            let mail = try ParsedMail(try #require(sink.messages().first))
            let body = try #require(mail.header("Content-Transfer-Encoding") == "base64" ? mail.decodedBody : mail.body)
            #expect(body.contains("Hi \(holder.username),"))
            #expect(!body.contains("confirm-email"))
        }
    }
}
