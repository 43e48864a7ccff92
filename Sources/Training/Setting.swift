import Foundation

// The machinery behind `TrainConfig.Settings` (the table in TrainConfig.swift): a declared setting
// (`TrainConfig.Setting<Value>`), what every setting offers whatever its type (`TrainSetting`: coding,
// command-line parsing, --help), and the types a setting may have (`SettingValue`).

/// A type a setting may have: `Int`, `Double`, `String`, `Bool` (a bare command-line flag) or an optional
/// of one of them (`nil`: unset).
public protocol SettingValue: Codable, Equatable, Sendable {
    /// Reads a command-line value; nil when `argument` is not one.
    static func parse(_ argument: String) -> Self?
    /// The value as --help shows a default; nil for an unset optional.
    var displayText: String? { get }
    /// The placeholder of the value in --help and in messages: `<int>`.
    static var valueName: String { get }
    /// Given as a bare `--name` on the command line (`Bool`), not as `--name value`.
    static var isFlag: Bool { get }
    /// An unset optional: left out of the JSON, as the synthesized `Encodable` did.
    var isNil: Bool { get }
    /// The value under `key`, nil when the key is missing or null (the setting keeps its value then).
    static func decodeIfPresent(from container: KeyedDecodingContainer<SettingKey>, key: SettingKey) throws -> Self?
}

extension SettingValue {
    public static var isFlag: Bool { false }
    public var isNil: Bool { false }
    public static func decodeIfPresent(from container: KeyedDecodingContainer<SettingKey>, key: SettingKey) throws -> Self? {
        try container.decodeIfPresent(Self.self, forKey: key)
    }
    /// Equality across the type-erased values of a setting.
    func isSame(as other: any SettingValue) -> Bool { (other as? Self) == self }
}

extension Int: SettingValue {
    public static func parse(_ argument: String) -> Int? { Int(argument) }
    public var displayText: String? { String(self) }
    public static var valueName: String { "int" }
}

extension Double: SettingValue {
    public static func parse(_ argument: String) -> Double? { Double(argument) }
    public var displayText: String? { Ticks.plain(self) }
    public static var valueName: String { "float" }
}

extension String: SettingValue {
    public static func parse(_ argument: String) -> String? { argument }
    public var displayText: String? { self }
    public static var valueName: String { "string" }
}

extension Bool: SettingValue {
    public static func parse(_ argument: String) -> Bool? { Bool(argument) }
    public var displayText: String? { String(self) }
    public static var valueName: String { "bool" }
    public static var isFlag: Bool { true }
}

extension Optional: SettingValue where Wrapped: SettingValue {
    public static func parse(_ argument: String) -> Wrapped?? { Wrapped.parse(argument).map { .some($0) } }
    public var displayText: String? { self?.displayText }
    public static var valueName: String { Wrapped.valueName }
    public static var isFlag: Bool { Wrapped.isFlag }
    public var isNil: Bool { self == nil }
    public static func decodeIfPresent(from container: KeyedDecodingContainer<SettingKey>, key: SettingKey) throws -> Wrapped?? {
        try container.decodeIfPresent(Wrapped.self, forKey: key).map { .some($0) }
    }
}

/// A setting's YAML/JSON key.
public struct SettingKey: CodingKey {
    public let stringValue: String
    public init(_ key: String) { stringValue = key }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public var intValue: Int? { nil }
    public init?(intValue: Int) { nil }
}

/// What every setting offers, whatever its type: the view of `TrainConfig.settings` that the YAML/JSON
/// coding, the command-line parser and --help work from.
public protocol TrainSetting: Sendable {
    /// The seed's snake_case name: the YAML/JSON key and the flag (`--batch_size`).
    var key: String { get }
    var help: String { get }
    /// `--help`'s "(default: …)": the default, or what an unset optional means; nil for flags and for an
    /// optional without an `unset` description.
    var defaultText: String? { get }
    /// A bare flag (`--resume`), as opposed to `--name value`.
    var isFlag: Bool { get }
    /// The placeholder of the value: `int`, `float`, `string`.
    var valueName: String { get }
    /// The value in `config`.
    func value(in config: TrainConfig) -> any SettingValue
    /// Reads a command-line value; nil when `argument` is not one of this setting's type.
    func parse(_ argument: String) -> (any SettingValue)?
    /// Sets `value` (of this setting's type, as `parse` returns it) in `config`.
    func assign(_ value: any SettingValue, to config: inout TrainConfig)
    func decode(from container: KeyedDecodingContainer<SettingKey>, into config: inout TrainConfig) throws
    func encode(_ config: TrainConfig, to container: inout KeyedEncodingContainer<SettingKey>) throws
}

extension TrainSetting {
    /// The command-line names: the seed's snake_case flag, then its kebab-case twin (`--batch-size`) if different.
    public var flagNames: [String] {
        let kebab = key.replacingOccurrences(of: "_", with: "-")
        return kebab == key ? ["--\(key)"] : ["--\(key)", "--\(kebab)"]
    }
}

extension TrainConfig {
    /// One declared setting: its key, type, default and help. Declared once, in `TrainConfig.Settings`.
    public struct Setting<Value: SettingValue>: TrainSetting {
        public let key: String
        public let defaultValue: Value
        public let help: String
        /// What an unset (nil) default means, for --help: "as preprocessed".
        public let unset: String?

        public init(_ key: String, default defaultValue: Value, help: String, unset: String? = nil) {
            self.key = key
            self.defaultValue = defaultValue
            self.help = help
            self.unset = unset
        }

        public var defaultText: String? { Value.isFlag ? nil : defaultValue.displayText ?? unset }
        public var isFlag: Bool { Value.isFlag }
        public var valueName: String { Value.valueName }

        public func value(in config: TrainConfig) -> any SettingValue { config[self] }
        public func parse(_ argument: String) -> (any SettingValue)? { Value.parse(argument) }
        public func assign(_ value: any SettingValue, to config: inout TrainConfig) { config[self] = value as! Value }

        public func decode(from container: KeyedDecodingContainer<SettingKey>, into config: inout TrainConfig) throws {
            if let value = try Value.decodeIfPresent(from: container, key: SettingKey(key)) { config[self] = value }
        }

        public func encode(_ config: TrainConfig, to container: inout KeyedEncodingContainer<SettingKey>) throws {
            let value = config[self]
            if !value.isNil { try container.encode(value, forKey: SettingKey(key)) }
        }
    }
}
