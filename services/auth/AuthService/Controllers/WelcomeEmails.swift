import Foundation
import Logging
import VoiceFlowCommon
import VoiceFlowJobQueue

/// Asks the jobs service to welcome a new user by email.
///
/// The account exists whether or not this succeeds: when Redis cannot take the job, the failure is
/// logged and the registration still answers 201.
struct WelcomeEmails: Sendable {
    let queue: JobQueue

    func send(to userID: UUID, logger: Logger) async {
        let job = PlatformJobs.WelcomeEmail(userId: userID)
        do {
            try await queue.add(name: PlatformJobs.WelcomeEmail.name, data: try job.encoded(), options: job.options)
        } catch {
            logger.warning(
                "Welcome email not queued", metadata: ["user.id": .string(userID.lowercasedString), "error": "\(error)"])
        }
    }
}
