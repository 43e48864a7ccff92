import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The status line and headers of one HTTP answer (header names lower-cased).
struct HTTPResponse {
    let url: URL
    let status: Int
    let headers: [String: String]

    init(_ response: HTTPURLResponse) {
        url = response.url ?? URL(string: "about:blank")!
        status = response.statusCode
        var headers: [String: String] = [:]
        for (key, value) in response.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        self.headers = headers
    }

    subscript(header: String) -> String? { headers[header.lowercased()] }

    /// Statuses worth retrying: rate limiting and server-side trouble.
    static func isTransient(_ status: Int) -> Bool { status == 408 || status == 429 || (500...599).contains(status) }

    var isRedirect: Bool { [301, 302, 303, 307, 308].contains(status) && self["Location"] != nil }
}

/// The connection failed before a complete answer arrived (DNS, refused, timeout, dropped mid-body).
struct TransportError: Error {
    let url: URL
    let reason: String
}

/// A small blocking HTTP client over URLSession (libcurl on Linux): the model is resolved before anything else runs,
/// so blocking keeps the call sites plain. One session per request keeps the delegates independent.
struct HTTPClient {
    var userAgent = "csm-swift (hf_hub-compatible)"

    /// A request whose redirect is returned instead of followed: the hub puts the file's metadata on the redirect
    /// itself (`X-Linked-Etag`, `X-Linked-Size`, `X-Repo-Commit`) and its `Location` is where to download from.
    func head(_ url: URL, headers: [String: String], timeout: TimeInterval) throws -> HTTPResponse {
        let delegate = TaskDelegate(followRedirects: false, onResponse: nil, onData: nil)
        return try perform(method: "HEAD", url: url, headers: headers, timeout: timeout, delegate: delegate)
    }

    /// A GET that follows redirects (dropping `Authorization` when one leaves the origin) and streams the body to
    /// `body` as it arrives. `start` sees the final answer before any byte of its body and may throw to abort.
    func get(
        _ url: URL, headers: [String: String], timeout: TimeInterval,
        start: @escaping (HTTPResponse) throws -> Void, body: @escaping (Data) throws -> Void
    ) throws -> HTTPResponse {
        let delegate = TaskDelegate(followRedirects: true, onResponse: start, onData: body)
        return try perform(method: "GET", url: url, headers: headers, timeout: timeout, delegate: delegate)
    }

    private func perform(
        method: String, url: URL, headers: [String: String], timeout: TimeInterval, delegate: TaskDelegate
    ) throws -> HTTPResponse {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        // The announced size must be the size on disk, so no compression in transit.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }

        session.dataTask(with: request).resume()
        delegate.done.wait()

        if let error = delegate.callbackError { throw error }
        if let error = delegate.transportError {
            throw TransportError(url: url, reason: (error as NSError).localizedDescription)
        }
        guard let response = delegate.response else {
            throw TransportError(url: url, reason: "no HTTP response")
        }
        return response
    }
}

/// Collects one task's answer and forwards its body. Its state is written only by callbacks on the session's serial
/// queue and read after `done` is signalled, hence `@unchecked Sendable`.
private final class TaskDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let followRedirects: Bool
    let onResponse: ((HTTPResponse) throws -> Void)?
    let onData: ((Data) throws -> Void)?
    let done = DispatchSemaphore(value: 0)
    private(set) var response: HTTPResponse?
    private(set) var transportError: Error?
    /// An error thrown by `onResponse`/`onData` (e.g. disk full); it wins over the cancellation it causes.
    private(set) var callbackError: Error?

    init(followRedirects: Bool, onResponse: ((HTTPResponse) throws -> Void)?, onData: ((Data) throws -> Void)?) {
        self.followRedirects = followRedirects
        self.onResponse = onResponse
        self.onData = onData
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        guard followRedirects else { return completionHandler(nil) }
        var next = request
        if let from = task.originalRequest?.url, let to = request.url, !HTTPClient.sameOrigin(from, to) {
            // A signed CDN URL must not receive the hub token.
            next.setValue(nil, forHTTPHeaderField: "Authorization")
        }
        completionHandler(next)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        guard let http = response as? HTTPURLResponse else { return completionHandler(.cancel) }
        let answer = HTTPResponse(http)
        self.response = answer
        do {
            try onResponse?(answer)
            completionHandler(.allow)
        } catch {
            callbackError = error
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard callbackError == nil else { return }
        do { try onData?(data) } catch {
            callbackError = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        // A redirect we declined to follow completes with the 3xx answer; some Foundation versions never called
        // didReceive for it, so take it from the task.
        if response == nil, let http = task.response as? HTTPURLResponse { response = HTTPResponse(http) }
        transportError = error
        done.signal()
    }
}

extension HTTPClient {
    /// Same scheme, host and port (default ports filled in), as huggingface_hub's `_url_origin`.
    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func origin(_ url: URL) -> (String, String, Int) {
            let scheme = url.scheme?.lowercased() ?? ""
            return (scheme, url.host?.lowercased() ?? "", url.port ?? (scheme == "https" ? 443 : 80))
        }
        return origin(a) == origin(b)
    }
}
