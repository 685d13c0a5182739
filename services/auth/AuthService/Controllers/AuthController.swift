import Foundation
import Hummingbird
import Logging
import NIOCore
import VoiceFlowCommon

/// `/api/v1/auth/*`: register, login, refresh, logout, verify, e-mail confirmation; the public key
/// set; and the API descriptions.
struct AuthController: Sendable {
    let users: any UserRepository
    let refreshTokens: any RefreshTokenRepository
    let hasher: PasswordHasher
    let issuer: TokenIssuer
    let verifier: TokenVerifier
    let limiter: RateLimiter
    let limits: AuthRateLimits
    let welcomeEmails: WelcomeEmails
    let endedSessions: LoginSessionAnnouncer
    let emailChanges: EmailChanges
    let refreshCookie: RefreshCookie

    func addRoutes(to router: Router<VoiceFlowRequestContext>) {
        let group = router.group("api/v1/auth")
        group.post("register", use: register)
        group.post("login", use: login)
        group.post("refresh", use: refresh)
        group.post("logout", use: logout)
        group.post("guest", use: guest)
        group.post("confirm-email", use: confirmEmail)
        group.group("verify").add(middleware: AuthenticationMiddleware(verifier: verifier)).get(use: verify)
        let jwks = issuer.signingKey.publicJWK
        router.get(".well-known/jwks.json") { _, _ in JWKSet(keys: [jwks]) }
        group.get("jwks") { _, _ in JWKSet(keys: [jwks]) }
        for document in APIDescription.Document.allCases {
            let description = try? APIDescription.load(document)
            router.get(RouterPath(document.path)) { _, _ -> Response in
                guard let description else { throw APIError.notFound("No API description is bundled") }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: description)))
            }
        }
    }

    @Sendable func register(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<AuthResponse> {
        let body = try await request.decodeJSON(as: RegisterRequest.self, context: context)
        let username = body.username.trimmingCharacters(in: .whitespaces)
        let email = CredentialRules.normalizedEmail(body.email)
        var problems: [String: String] = [:]
        problems["username"] = CredentialRules.usernameProblem(username)
        problems["email"] = CredentialRules.emailProblem(email)
        problems["password"] = CredentialRules.passwordProblem(body.password)
        // Rules the API description cannot state (two fields that must agree, a length in bytes)
        // answer 422 when nothing else is wrong: the request was well-formed.
        var rules: [String: String] = [:]
        rules["password"] = CredentialRules.passwordByteProblem(body.password)
        if body.password != body.confirmPassword { rules["confirmPassword"] = "passwords do not match" }
        if !problems.isEmpty { throw APIError.validation(fields: problems.merging(rules) { first, _ in first }) }
        if !rules.isEmpty {
            var error = APIError.validation(fields: rules)
            error.status = .unprocessableContent
            throw error
        }

        try await limiter.check(limits.registerPerIP, subject: context.clientIP)
        try await limiter.check(limits.registerPerEmail, subject: email)
        let user = try await users.create(username: username, email: email, passwordHash: try await hasher.hash(body.password))
        context.logger.info("User registered", metadata: ["user.id": .string(user.id.lowercasedString)])
        // The address that created the account is one its owner signs in from.
        await limiter.grantPass(limits.trustedAddressPass, subject: "\(email)\n\(context.clientIP)", lifetime: limits.trustedAddressLifetime)
        let response = try await session(for: user)
        await welcomeEmails.send(to: user.id, logger: context.logger)
        return EditedResponse(status: .created, headers: refreshCookie.headers(setting: response.refreshToken), response: response)
    }

    /// A guest session: a display name only, no password; the token has kind `guest`.
    @Sendable func guest(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<AuthResponse> {
        let body = try await request.decodeJSON(as: GuestRequest.self, context: context)
        let username = try CredentialRules.guestUsername(from: body.displayName)
        try await limiter.check(limits.registerPerIP, subject: context.clientIP)
        let user = try await users.createGuest(username: username)
        context.logger.info("Guest signed in", metadata: ["user.id": .string(user.id.lowercasedString)])
        let response = try await session(for: user)
        return EditedResponse(status: .created, headers: refreshCookie.headers(setting: response.refreshToken), response: response)
    }

    @Sendable func login(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<AuthResponse> {
        let body = try await request.decodeJSON(as: LoginRequest.self, context: context)
        let email = CredentialRules.normalizedEmail(body.email)
        guard !email.isEmpty, !body.password.isEmpty, body.password.utf8.count <= 1024 else {
            throw APIError.validation(fields: ["email": "required", "password": "required"])
        }
        try await limiter.check(limits.loginPerIP, subject: context.clientIP)
        // Failures, not attempts, hold an account back: per (account, address), and per account for
        // addresses that never signed in to it, so nobody can lock the owner out from elsewhere.
        let accountAndAddress = "\(email)\n\(context.clientIP)"
        let failures = [
            FailureCheck(limits.loginFailuresPerAccountAndAddress, subject: accountAndAddress),
            FailureCheck(
                limits.loginFailuresPerAccount, subject: email, waivedBy: (limits.trustedAddressPass, accountAndAddress)),
        ]
        try await limiter.checkFailures(failures)
        let user = try await users.find(email: email)
        guard try await hasher.verify(body.password, against: user?.passwordHash), let user else {
            await limiter.recordFailure(failures)
            throw APIError(status: .unauthorized, code: .invalidCredentials, message: "Invalid email or password")
        }
        await limiter.clearFailures(limits.loginFailuresPerAccountAndAddress, subject: accountAndAddress)
        await limiter.grantPass(limits.trustedAddressPass, subject: accountAndAddress, lifetime: limits.trustedAddressLifetime)
        context.logger.info("User logged in", metadata: ["user.id": .string(user.id.lowercasedString)])
        let response = try await session(for: user)
        return EditedResponse(headers: refreshCookie.headers(setting: response.refreshToken), response: response)
    }

    @Sendable func refresh(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<AuthResponse> {
        let body = try await request.decodeJSON(as: RefreshRequest.self, context: context)
        try await limiter.check(limits.refreshPerIP, subject: context.clientIP)
        let presented = try refreshCookie.token(body: body.refreshToken, request: request)
        let (replacement, replacementHash) = TokenIssuer.newRefreshToken()
        let outcome = try await refreshTokens.rotate(
            hash: TokenIssuer.hash(presented.token), replacement: replacementHash, expiresAt: issuer.refreshExpiry)
        switch outcome {
        case .invalid:
            throw APIError.unauthorized("Invalid or expired refresh token")
        case .reused(let userID, let familyID):
            context.logger.warning("Refresh token reused, family revoked")
            await endedSessions.publish(LoginSessionRef(userID: userID, familyID: familyID), reason: .revoked, logger: context.logger)
            throw APIError(
                status: .unauthorized, code: .refreshTokenReused,
                message: "Refresh token was already used; all sessions of this login were revoked")
        case .rotated(let userID, let familyID):
            guard let user = try await users.find(id: userID) else { throw APIError.unauthorized("Account no longer exists") }
            let response = AuthResponse(
                token: try await issuer.accessToken(for: user.identity, loginSession: familyID), refreshToken: replacement,
                user: user.dto, expiresIn: issuer.expiresIn)
            return EditedResponse(headers: refreshCookie.headers(setting: replacement), response: response)
        }
    }

    @Sendable func logout(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<SuccessResponse> {
        let body = try await request.decodeJSON(as: RefreshRequest.self, context: context)
        let presented = try refreshCookie.token(body: body.refreshToken, request: request)
        guard let ended = try await refreshTokens.revokeFamily(ofTokenWithHash: TokenIssuer.hash(presented.token)) else {
            throw APIError.unauthorized("Invalid refresh token")
        }
        // Its sockets are disconnected too (their access tokens would otherwise live on until expiry).
        await endedSessions.publish(ended, reason: .signedOut, logger: context.logger)
        return EditedResponse(headers: [.setCookie: refreshCookie.cleared], response: SuccessResponse())
    }

    /// Applies a pending change of e-mail address: the token sent to the new address is the credential.
    @Sendable func confirmEmail(_ request: Request, context: VoiceFlowRequestContext) async throws -> UserDTO {
        let body = try await request.decodeJSON(as: ConfirmEmailRequest.self, context: context)
        try await limiter.check(limits.emailConfirmationsPerIP, subject: context.clientIP)
        let user = try await emailChanges.confirm(token: body.token)
        context.logger.info("Email change confirmed", metadata: ["user.id": .string(user.id.lowercasedString)])
        return user.dto
    }

    @Sendable func verify(_ request: Request, context: VoiceFlowRequestContext) async throws -> VerifyResponse {
        let identity = try context.requireIdentity()
        guard let user = try await users.find(id: identity.id) else { throw APIError.unauthorized("Account no longer exists") }
        return VerifyResponse(valid: true, user: user.dto)
    }

    /// A new login session: access token plus the first refresh token of a new family.
    private func session(for user: UserRecord) async throws -> AuthResponse {
        let (refreshToken, hash) = TokenIssuer.newRefreshToken()
        let familyID = UUID()
        try await refreshTokens.insert(hash: hash, userID: user.id, familyID: familyID, expiresAt: issuer.refreshExpiry)
        return AuthResponse(
            token: try await issuer.accessToken(for: user.identity, loginSession: familyID), refreshToken: refreshToken,
            user: user.dto, expiresIn: issuer.expiresIn)
    }
}
