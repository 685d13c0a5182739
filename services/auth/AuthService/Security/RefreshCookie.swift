import Foundation
import HTTPTypes
import Hummingbird
import VoiceFlowCommon

/// The refresh token as a browser keeps it: an `HttpOnly; SameSite=Strict` cookie that only the
/// auth paths receive, so no script of the page can read it. Register, login, guest and refresh set
/// it (beside the JSON body other clients use); refresh and logout read it when the body carries
/// no refresh token, and then only from an allowed `Origin` (SameSite already keeps other sites'
/// requests from carrying it; the Origin check also refuses same-site pages of other origins).
struct RefreshCookie: Sendable {
    static let name = "vf_refresh"
    static let path = "/api/v1/auth"

    /// `Secure` on the cookie (production: the edge serves HTTPS).
    let secure: Bool
    let lifetime: Duration
    /// Origins whose pages may use the cookie.
    let allowedOrigins: Set<String>

    /// The `Set-Cookie` value holding `token`.
    func set(_ token: String) -> String {
        attributes("\(Self.name)=\(token)", maxAge: lifetime.components.seconds)
    }

    /// The `Set-Cookie` value that removes it.
    var cleared: String { attributes("\(Self.name)=", maxAge: 0) }

    private func attributes(_ pair: String, maxAge: Int64) -> String {
        "\(pair); Path=\(Self.path); Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// Headers setting the cookie to `token`.
    func headers(setting token: String) -> HTTPFields { [.setCookie: set(token)] }

    /// The refresh token a request carries: the body's, else the cookie's (checked for its origin).
    func token(body: String?, request: Request) throws(APIError) -> (token: String, fromCookie: Bool) {
        if let body, !body.isEmpty { return (body, false) }
        guard let cookie = Self.value(in: request.headers[values: .cookie]) else {
            throw APIError.unauthorized("No refresh token: send refreshToken, or sign in again")
        }
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) else {
            throw APIError.forbidden("The refresh cookie is only accepted from the application's own pages")
        }
        return (cookie, true)
    }

    /// This cookie's value among `Cookie` header values.
    static func value(in headers: [String]) -> String? {
        for header in headers {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { return value }
            }
        }
        return nil
    }
}
