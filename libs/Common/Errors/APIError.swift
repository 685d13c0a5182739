import HTTPTypes

/// The one error type services throw to reach a client.
///
/// Every API failure is an `APIError`: an HTTP status, a stable ``ErrorCode``, a human message and
/// optional field-level details. It is rendered once, by ``APIError/response(from:context:)``, as
/// `{"code","message","details"?}`: the same shape as the socket `error` event.
///
/// ```swift
/// throw APIError.validation("username must be 3-20 letters, digits or underscores", field: "username")
/// ```
public struct APIError: Error, Sendable, Equatable {
    /// HTTP status sent with the error.
    public var status: HTTPResponse.Status
    /// Stable machine-readable code.
    public var code: ErrorCode
    /// Human-readable explanation, safe to show to the caller.
    public var message: String
    /// Optional per-field problems (`field` → reason).
    public var details: [String: String]?
    /// Extra response headers (for example `Retry-After`).
    public var headers: HTTPFields

    /// Creates an error with every part given.
    public init(
        status: HTTPResponse.Status,
        code: ErrorCode,
        message: String,
        details: [String: String]? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }
}

extension APIError {
    /// 400: the request is well-formed JSON but a field is missing or invalid.
    public static func validation(_ message: String, field: String? = nil) -> APIError {
        APIError(
            status: .badRequest, code: .validationFailed, message: message,
            details: field.map { [$0: message] })
    }

    /// 400: several fields are invalid at once.
    public static func validation(fields: [String: String]) -> APIError {
        let summary = fields.keys.sorted().joined(separator: ", ")
        return APIError(
            status: .badRequest, code: .validationFailed,
            message: "Invalid fields: \(summary)", details: fields)
    }

    /// 400: the body is not parseable JSON.
    public static let invalidJSON = APIError(
        status: .badRequest, code: .invalidJSON, message: "Request body is not valid JSON")

    /// 415: the body is not `application/json`.
    public static let unsupportedMediaType = APIError(
        status: .unsupportedMediaType, code: .unsupportedMediaType,
        message: "Content-Type must be application/json")

    /// 413: the body exceeds the configured limit.
    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge, code: .payloadTooLarge,
            message: "Request body exceeds \(limit) bytes")
    }

    /// 401: no valid credentials were presented.
    public static func unauthorized(_ message: String = "Authentication required") -> APIError {
        APIError(status: .unauthorized, code: .unauthorized, message: message)
    }

    /// 403: authenticated, but not allowed to do this.
    public static func forbidden(_ message: String = "You are not allowed to do this") -> APIError {
        APIError(status: .forbidden, code: .forbidden, message: message)
    }

    /// 404: the resource does not exist (or is hidden from the caller).
    public static func notFound(_ message: String = "Not found") -> APIError {
        APIError(status: .notFound, code: .notFound, message: message)
    }

    /// 409: the request conflicts with the current state.
    public static func conflict(_ code: ErrorCode, _ message: String) -> APIError {
        APIError(status: .conflict, code: code, message: message)
    }

    /// 429: a rate limit was hit; `Retry-After` tells when to try again.
    public static func rateLimited(retryAfterSeconds: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, retryAfterSeconds))
        return APIError(
            status: .tooManyRequests, code: .rateLimited,
            message: "Too many requests, try again later", headers: headers)
    }

    /// 500: something failed on our side; the cause is logged, never sent.
    public static let internalError = APIError(
        status: .internalServerError, code: .internalError, message: "Internal server error")

    /// 503: a dependency (database, Redis) is unavailable right now.
    public static let serviceUnavailable = APIError(
        status: .serviceUnavailable, code: .serviceUnavailable,
        message: "Service temporarily unavailable")
}
