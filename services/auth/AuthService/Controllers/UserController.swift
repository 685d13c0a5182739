import Foundation
import Hummingbird
import Logging
import VoiceFlowCommon

/// `/api/v1/users/*`: the caller's own profile.
///
/// A new e-mail address is not applied here: it becomes a pending change, confirmed through the new
/// address (``EmailChanges``), and the answer is the same whether or not the address is taken.
/// Changes are rate limited per user, and e-mail changes more tightly (per user and per client
/// address): each one sends an e-mail.
struct UserController: Sendable {
    let users: any UserRepository
    let verifier: TokenVerifier
    let limiter: RateLimiter
    let limits: AuthRateLimits
    let emailChanges: EmailChanges

    func addRoutes(to router: Router<VoiceFlowRequestContext>) {
        let group = router.group("api/v1/users").add(middleware: AuthenticationMiddleware(verifier: verifier))
        group.get("me", use: me)
        group.patch(":id", use: update)
    }

    @Sendable func me(_ request: Request, context: VoiceFlowRequestContext) async throws -> UserDTO {
        let identity = try context.requireIdentity()
        guard let user = try await users.find(id: identity.id) else { throw APIError.notFound("User not found") }
        return user.dto
    }

    @Sendable func update(_ request: Request, context: VoiceFlowRequestContext) async throws -> UserDTO {
        let identity = try context.requireIdentity()
        let id = try context.uuidParameter("id")
        guard id == identity.id else { throw APIError.forbidden("You can only edit your own profile") }
        guard identity.kind == .user else { throw APIError.forbidden("Guests cannot edit a profile") }
        let body = try await request.decodeJSON(as: UpdateUserRequest.self, context: context)

        let username = body.username?.trimmingCharacters(in: .whitespaces)
        let email = body.email.map(CredentialRules.normalizedEmail)
        var problems: [String: String] = [:]
        if let username { problems["username"] = CredentialRules.usernameProblem(username) }
        if let email { problems["email"] = CredentialRules.emailProblem(email) }
        if let avatarUrl = body.avatarUrl { problems["avatarUrl"] = CredentialRules.avatarURLProblem(avatarUrl) }
        if !problems.isEmpty { throw APIError.validation(fields: problems) }
        guard username != nil || email != nil || body.avatarUrl != nil || body.clearsAvatar else {
            throw APIError.validation("Nothing to update: give username, email or avatarUrl")
        }
        if email != nil {
            try await limiter.check(limits.emailChangesPerIP, subject: context.clientIP)
            try await limiter.check(limits.emailChangesPerUser, subject: id.uuidString)
        }
        try await limiter.check(limits.profileUpdatesPerUser, subject: id.uuidString)

        let avatar: AvatarChange = body.avatarUrl.map { .set($0) } ?? (body.clearsAvatar ? .clear : .keep)
        let changesProfile = username != nil || body.avatarUrl != nil || body.clearsAvatar
        let found = try await changesProfile
            ? users.update(id: id, username: username, email: nil, avatar: avatar) : users.find(id: id)
        guard let user = found else { throw APIError.notFound("User not found") }
        if changesProfile { context.logger.info("User updated") }
        var dto = user.dto
        if let email {
            dto.pendingEmail = try await emailChanges.request(for: user, newEmail: email, logger: context.logger)
        }
        return dto
    }
}
