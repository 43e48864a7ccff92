import Foundation

extension Runtime {
    /// Peak resident set size of this process so far (`VmHWM` in /proc/self/status), in bytes; nil
    /// where /proc is not available.
    public static var peakResidentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        // "VmHWM:\t  123456 kB": the padding may be a tab alone once the number is wide.
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2, let kb = Int(fields[1]) else { return nil }
        return kb * 1024
    }
}
