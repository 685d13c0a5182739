import Foundation
import JWTKit

/// The claims of a VoiceFlow access token (a short-lived EdDSA-signed JWT).
public struct AccessTokenClaims: JWTPayload, Equatable {
    /// The issuer every VoiceFlow token carries.
    public static let issuer = "voiceflow-auth"
    /// The audience every VoiceFlow token carries.
    public static let audience = "voiceflow"

    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var jti: IDClaim
    /// The user's name at issue time.
    public var username: String
    /// `user` or `guest`.
    public var kind: AuthenticatedUser.Kind
    /// The login session (refresh-token family) the token was minted for; signing out of it, or
    /// its revocation on refresh-token reuse, ends the sockets it authenticated. Absent in tokens
    /// minted outside a login session.
    public var sid: String?

    /// Claims for `user`, valid from `issuedAt` for `lifetime`.
    public init(user: AuthenticatedUser, loginSession: UUID? = nil, issuedAt: Date = Date(), lifetime: Duration) {
        // Whole seconds: NumericDate may be fractional, but many JWT libraries expect integers.
        let issuedAt = Date(timeIntervalSince1970: issuedAt.timeIntervalSince1970.rounded(.down))
        self.sub = SubjectClaim(value: user.id.lowercasedString)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.exp = ExpirationClaim(value: issuedAt.addingTimeInterval(TimeInterval(lifetime.components.seconds)))
        self.iss = IssuerClaim(value: Self.issuer)
        self.aud = AudienceClaim(value: [Self.audience])
        self.jti = IDClaim(value: UUID().lowercasedString)
        self.username = user.username
        self.kind = user.kind
        self.sid = loginSession?.lowercasedString
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Self.issuer else { throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "wrong issuer") }
        try aud.verifyIntendedAudience(includes: Self.audience)
    }

    /// When the token stops being valid.
    public var expiresAt: Date { exp.value }

    /// The identity these claims describe, if the subject is a valid id.
    public var identity: AuthenticatedUser? {
        guard let id = UUID(uuidString: sub.value) else { return nil }
        return AuthenticatedUser(id: id, username: username, kind: kind)
    }
}
