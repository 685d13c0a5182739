import Foundation
import Hummingbird
import Logging
import VoiceFlowCommon

/// `/api/v1/users/*`: the caller's own profile.
///
/// Changes are rate limited per user, and e-mail changes more tightly (per user and per client
/// address, counted before the address is looked up): a refused change says the address is taken,
/// so these limits keep this from being a quicker way to test addresses than registration is.
struct UserController: Sendable {
    let users: any UserRepository
    let verifier: TokenVerifier
    let limiter: RateLimiter
    let limits: AuthRateLimits

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
        guard let user = try await users.update(id: id, username: username, email: email, avatar: avatar) else {
            throw APIError.notFound("User not found")
        }
        context.logger.info("User updated")
        return user.dto
    }
}
