import Foundation
import Hummingbird

/// A refused or failed request, answered as OpenAI answers one: the status, and
/// `{"error": {"message", "type", "param", "code"}}` (openai-python raises its `APIStatusError` subclasses from it).
public struct OpenAIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI's `type`: `invalid_request_error`, `authentication_error`, `requests`, `server_error`, …
    public var type: String
    /// The request field at fault, if one is.
    public var param: String?
    public var code: String?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// 400: a field is missing or holds a value this server does not take.
    public static func invalid(_ message: String, param: String?, code: String? = nil) -> OpenAIError {
        OpenAIError(.badRequest, message, param: param, code: code)
    }

    public static func serverError(_ message: String) -> OpenAIError {
        OpenAIError(.internalServerError, message, type: "server_error")
    }

    /// The JSON body (keys in OpenAI's order; `param` and `code` are null when unset, as OpenAI sends them).
    public var body: Data {
        func quoted(_ s: String?) -> String {
            guard let s else { return "null" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            let data = try! encoder.encode(s)  // a String always encodes
            return String(decoding: data, as: UTF8.self)
        }
        return Data("{\"error\": {\"message\": \(quoted(message)), \"type\": \(quoted(type)), \"param\": \(quoted(param)), \"code\": \(quoted(code))}}\n".utf8)
    }

    public var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
