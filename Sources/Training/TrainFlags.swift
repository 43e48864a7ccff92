import Foundation

/// `csm train`'s command line, made from `TrainConfig.settings`: the parser of its flags and its --help.
/// (swift-argument-parser only knows options declared as properties; `csm train` hands it every setting
/// flag as unparsed text, and this reads them.)
extension TrainConfig {
    /// Settings given on the command line, to apply over the defaults or a `--config` file (flags win).
    public struct Flags: Sendable {
        /// The settings given, in order; a repeated flag: the last wins.
        public private(set) var given: [(setting: any TrainSetting, value: any SettingValue)] = []

        /// Reads every setting as `--name value` or `--name=value` (the snake_case name or its kebab-case
        /// twin) and a `Bool` setting as a bare `--name`. Errors read as swift-argument-parser's;
        /// `otherOptions`: the command's own options, for "did you mean" hints.
        public init(parsing arguments: [String], otherOptions: [String] = []) throws {
            var rest = arguments[...]
            while let argument = rest.popFirst() {
                guard argument.count > 1, argument.hasPrefix("-") else { throw ConfigError("Unexpected argument '\(argument)'") }
                var name = argument, attached: String?
                if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                    name = String(argument[..<equals])
                    attached = String(argument[argument.index(after: equals)...])
                }
                guard let setting = TrainConfig.setting(flag: name) else {
                    throw ConfigError(Self.unknownOption(name, otherOptions: otherOptions))
                }
                if setting.isFlag {
                    if let attached {
                        throw ConfigError("The option '\(name)' does not take any value, but '\(attached)' was specified.")
                    }
                    given.append((setting, true))
                    continue
                }
                let text: String
                if let attached {
                    text = attached
                } else if let next = rest.first, !Self.isOption(next) {
                    text = next
                    rest.removeFirst()
                } else {
                    throw ConfigError("Missing value for '\(name) <\(setting.valueName)>'")
                }
                guard let value = setting.parse(text) else {
                    throw ConfigError("The value '\(text)' is invalid for '\(name) <\(setting.valueName)>'")
                }
                given.append((setting, value))
            }
        }

        /// Sets the given settings in `config`.
        public func apply(to config: inout TrainConfig) {
            for (setting, value) in given { setting.assign(value, to: &config) }
        }

        /// An option name rather than a value: dash-prefixed, but not a negative number (`--max_steps -1`).
        static func isOption(_ argument: String) -> Bool {
            argument.count > 1 && argument.hasPrefix("-") && Double(argument) == nil
        }

        static func unknownOption(_ name: String, otherOptions: [String]) -> String {
            // As swift-argument-parser: the closest name, if within an edit distance of 4.
            let names = TrainConfig.settings.flatMap(\.flagNames) + otherOptions
            let hint = names.filter { editDistance($0, name) < 4 }.min { editDistance($0, name) < editDistance($1, name) }
            return "Unknown option '\(name)'" + (hint.map { ". Did you mean '\($0)'?" } ?? "")
        }
    }

    /// The setting a command-line name (`--batch_size` or `--batch-size`) stands for.
    public static func setting(flag name: String) -> (any TrainSetting)? {
        settingsByFlag[name]
    }

    private static let settingsByFlag: [String: any TrainSetting] = Dictionary(
        uniqueKeysWithValues: settings.flatMap { setting in setting.flagNames.map { ($0, setting) } })

    /// `csm train --help`'s list of every setting with its default, laid out as swift-argument-parser lays out
    /// options (lines of at most `width` characters).
    public static func settingsHelp(width: Int = 79) -> String {
        let column = 26
        var lines = ["Each setting below is a flag, and a key of the YAML file given with --config",
                     "under its snake_case name (flags win over the file, the file over defaults).",
                     "", "SETTINGS:"]
        for setting in settings {
            let label = "  " + setting.flagNames.joined(separator: ", ") + (setting.isFlag ? "" : " <\(setting.valueName)>")
            let text = setting.help + (setting.defaultText.map { " (default: \($0))" } ?? "")
            var wrapped = wrap(text, width: width - column)
            if label.count < column - 1 {
                lines.append(label.padding(toLength: column, withPad: " ", startingAt: 0) + wrapped.removeFirst())
            } else {
                lines.append(label)
            }
            lines += wrapped.map { String(repeating: " ", count: column) + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// `text` in lines of at most `width` characters, broken at spaces (a longer word gets its own line).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        return lines + [line]
    }
}
