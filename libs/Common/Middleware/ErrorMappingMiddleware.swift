import Hummingbird
import Logging
import PostgresNIO
import VoiceFlowRedis

/// Turns every error a handler throws into a response in the common shape.
///
/// ``APIError`` renders as itself; the framework's own `HTTPError`s (unknown route, body too large)
/// get the matching code; anything else becomes a 500 with a generic message while the cause
/// is logged, never sent.
public struct ErrorMappingMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext

    /// Creates the middleware.
    public init() {}

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error, logger: context.logger)
            return try apiError.response(from: request, context: context)
        }
    }

    /// The client-facing form of `error`.
    static func apiError(for error: any Error, logger: Logger) -> APIError {
        let error = unwrappingTransaction(error)
        switch error {
        case let apiError as APIError:
            return apiError
        case let httpError as HTTPError:
            switch httpError.status {
            case .notFound: return .notFound("No such route")
            case .methodNotAllowed:
                return APIError(status: .methodNotAllowed, code: .methodNotAllowed, message: "Method not allowed")
            case .contentTooLarge: return .payloadTooLarge(limit: 0)
            case .unsupportedMediaType: return .unsupportedMediaType
            case .badRequest: return .validation(httpError.body ?? "Bad request")
            case .unauthorized: return .unauthorized()
            case .forbidden: return .forbidden()
            default:
                if httpError.status.code < 500 {
                    return APIError(status: httpError.status, code: .validationFailed, message: httpError.status.reasonPhrase)
                }
                logger.error("Request failed", metadata: ["error.type": "\(type(of: error))"])
                return .internalError
            }
        case let postgresError as PSQLError where postgresError.isInvalidInput:
            // Data PostgreSQL cannot store (NUL characters, out-of-range numbers): the caller's input.
            return .validation("The request contains a value that cannot be stored (for example a NUL character)")
        case let postgresError as PSQLError where postgresError.isConnectionFailure:
            logger.error("Database unavailable", metadata: ["error.code": "\(postgresError.code)"])
            return .serviceUnavailable
        case is RedisError:
            logger.error("Redis unavailable", metadata: ["error.type": "\(type(of: error))"])
            return .serviceUnavailable
        default:
            logger.error(
                "Unhandled error",
                metadata: ["error.type": "\(type(of: error))", "error.description": "\(String(reflecting: error))"])
            return .internalError
        }
    }
}
