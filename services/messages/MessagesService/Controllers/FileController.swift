import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOPosix
import VoiceFlowCommon

/// `POST /api/v1/files` (multipart upload) and `GET /api/v1/files/:id` (download).
///
/// Uploads are streamed to disk with the size limit enforced as bytes arrive; names are sanitized and
/// types checked against an allowlist. A file can be downloaded by its uploader and by members of
/// rooms where a message shares it.
struct FileController: Sendable {
    let files: any FileRepository
    let storage: any FileStorage
    let settings: FileSettings
    let verifier: TokenVerifier
    let limiter: RateLimiter
    let uploadLimit: RateLimitRule

    func addRoutes(to router: Router<VoiceFlowRequestContext>) {
        let group = router.group("api/v1/files").add(middleware: AuthenticationMiddleware(verifier: verifier))
        group.post(use: upload)
        group.get(":id", use: download)
    }

    @Sendable func upload(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<FileDTO> {
        let user = try context.requireIdentity()
        guard user.kind == .user else { throw APIError.forbidden("Guests cannot upload files") }
        guard let contentType = request.headers[.contentType], let boundary = MultipartUpload.boundary(of: contentType) else {
            throw APIError(
                status: .unsupportedMediaType, code: .unsupportedMediaType,
                message: "Content-Type must be multipart/form-data with a boundary")
        }
        try await limiter.check(uploadLimit, subject: user.id.uuidString)
        let upload = MultipartUpload(
            boundary: boundary, limit: settings.maximumBytes, bodyLimit: settings.maximumBodyBytes,
            destination: try storage.temporaryURL())
        do {
            for try await chunk in request.body {
                try upload.feed(chunk)
            }
        } catch let error as APIError {
            throw error
        } catch {
            upload.discard()
            throw APIError.validation("The upload was interrupted", field: "file")
        }
        let received = try upload.finish()
        guard settings.allowedTypes.contains(received.mimeType) else {
            upload.discard()
            throw APIError(
                status: .unsupportedMediaType, code: .unsupportedMediaType,
                message: "Files of type \(received.mimeType) are not accepted", details: ["file": "type not allowed"])
        }
        guard received.size > 0 else {
            upload.discard()
            throw APIError(
                status: .unprocessableContent, code: .validationFailed, message: "The file is empty", details: ["file": "The file is empty"])
        }
        let id = UUID()
        do {
            try await storage.store(received.location, id: id, mimeType: received.mimeType, size: received.size)
        } catch {
            upload.discard()
            context.logger.error("File storage failed", metadata: ["error.type": "\(type(of: error))"])
            throw APIError.serviceUnavailable
        }
        let file = try await files.insert(
            id: id, name: MultipartUpload.sanitizedFileName(received.fileName), size: received.size,
            mimeType: received.mimeType, url: "/api/v1/files/\(id.lowercasedString)", uploader: user.id)
        context.logger.info("File uploaded", metadata: ["file.id": .string(file.id), "file.size": "\(file.size)"])
        return EditedResponse(status: .created, response: file)
    }

    @Sendable func download(_ request: Request, context: VoiceFlowRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        let id = try context.uuidParameter("id")
        guard let (file, uploader) = try await files.find(id) else { throw APIError.notFound("File not found") }
        if uploader != user.id {
            guard try await files.isShared(id, with: user.id) else { throw APIError.notFound("File not found") }
        }
        let body: ResponseBody
        do {
            body = try await storage.content(of: id, context: context)
        } catch {
            context.logger.error("File storage failed", metadata: ["error.type": "\(type(of: error))"])
            throw APIError.serviceUnavailable
        }
        var headers: HTTPFields = [
            .contentType: file.mimeType,
            .contentDisposition: ContentDisposition.attachment(fileName: file.name),
        ]
        headers[.contentLength] = String(file.size)
        return Response(status: .ok, headers: headers, body: body)
    }
}
