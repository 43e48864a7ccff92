import Foundation
#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
private let sendFlags = Int32(MSG_NOSIGNAL)  // a client that hung up must not kill the test process
#else
import Darwin
private let streamSocket = SOCK_STREAM
private let sendFlags: Int32 = 0
#endif

/// A minimal HTTP/1.1 server on 127.0.0.1 (random port) for tests: one connection at a time, `Connection: close`,
/// request bodies by Content-Length. Bounded: it stops by itself after `lifetime` seconds or `maxConnections` connections, so a
/// failing test cannot leave it running.
public final class TestHTTPServer: @unchecked Sendable {
    public struct Request: Sendable {
        public let method: String
        public let path: String
        /// Header names lower-cased.
        public let headers: [String: String]
        public let body: Data
    }

    public struct Response {
        public var status: Int
        public var headers: [(String, String)]
        public var body: Data
        /// Send only this many body bytes (after announcing them all), then close: a connection dropped mid-body.
        public var dropAfter: Int?

        public init(status: Int, headers: [(String, String)] = [], body: Data = Data(), dropAfter: Int? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.dropAfter = dropAfter
        }
    }

    public let port: UInt16
    private let listener: Int32
    private let handler: (Request) -> Response
    private let lock = NSLock()
    private var log: [Request] = []
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Every request received so far, in order.
    public var requests: [Request] { lock.withLock { log } }

    public init(lifetime: TimeInterval = 30, maxConnections: Int = 500, handler: @escaping (Request) -> Response) throws {
        self.handler = handler
        let listener = socket(AF_INET, streamSocket, 0)
        guard listener >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0  // the kernel picks a free port
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        self.listener = listener

        let deadline = Date().addingTimeInterval(lifetime)
        let thread = Thread { [self] in
            var served = 0
            while served < maxConnections, Date() < deadline, !lock.withLock({ stopped }) {
                var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 50) > 0 else { continue }
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { continue }
                served += 1
                serve(connection)
                close(connection)
            }
            close(listener)
            finished.signal()
        }
        thread.start()
    }

    /// Stops accepting and waits for the serving thread to end.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { finished.wait() }
    }

    deinit { stop() }

    private func serve(_ connection: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #if !canImport(Glibc)
        var one: Int32 = 1
        setsockopt(connection, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end = Data("\r\n\r\n".utf8)
        while buffer.range(of: end) == nil {
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0, buffer.count < 65536 else { return }
            buffer.append(contentsOf: chunk[0..<count])
        }
        let head = String(decoding: buffer[..<buffer.range(of: end)!.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(buffer[buffer.range(of: end)!.upperBound...])
        let expected = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < expected {
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return }
            body.append(contentsOf: chunk[0..<count])
        }
        let request = Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
        lock.withLock { log.append(request) }

        let response = handler(request)
        var text = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        var output = Data(text.utf8)
        if request.method != "HEAD" { output.append(response.body.prefix(response.dropAfter ?? response.body.count)) }
        output.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let count = send(connection, raw.baseAddress! + sent, raw.count - sent, sendFlags)
                if count <= 0 { return }
                sent += count
            }
        }
        if response.dropAfter != nil { shutdown(connection, Int32(SHUT_RDWR)) }
    }

    private static func reason(_ status: Int) -> String {
        [200: "OK", 206: "Partial Content", 302: "Found", 401: "Unauthorized", 403: "Forbidden",
         404: "Not Found", 416: "Range Not Satisfiable"][status] ?? "Status"
    }
}
