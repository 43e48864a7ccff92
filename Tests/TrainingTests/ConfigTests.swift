import Foundation
import Testing
@testable import Training
import TestSupport

@Suite struct ConfigTests {
    @Test func defaultsAreTheSeeds() {
        let c = TrainConfig()
        #expect(c.outputDir == "./outputs" && c.modelId == "unsloth/csm-1b")
        #expect(c.batchSize == 2 && c.gradientAccumulationSteps == 4 && c.learningRate == 2e-4)
        #expect(c.nEpochs == 2 && c.maxSteps == -1 && c.warmupSteps == 5 && c.weightDecay == 0.001)
        #expect(c.lrSchedulerType == "linear" && c.maxGradNorm == 1.0 && c.seed == 3407)
        #expect(!c.loadIn4bit && !c.fullFinetune && c.loraR == 32 && c.loraAlpha == 32)
        #expect(c.saveEvery == 500 && c.genEvery == 1000 && c.genFrom == nil && !c.useWandb)
    }

    @Test(arguments: [("finetune_param_defaults.yaml", 8), ("finetune_param_defaults_bs4.yaml", 4),
                      ("finetune_param_defaults_lower_vram.yaml", 2)])
    func presetsLoad(name: String, batch: Int) throws {
        let c = try TrainConfig.load(yaml: repositoryRoot.appendingPathComponent("configs/\(name)"))
        #expect(c.batchSize == batch)
        #expect(c.batchSize * c.gradientAccumulationSteps == 8)
    }

    @Test func unknownKeysAndBadTypesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let typo = dir.appendingPathComponent("typo.yaml")
        try "batch_sizee: 4\n".write(to: typo, atomically: true, encoding: .utf8)
        #expect { try TrainConfig.load(yaml: typo) } throws: {
            "\($0)".contains("unknown setting 'batch_sizee'") && "\($0)".contains("batch_size")
        }
        let badType = dir.appendingPathComponent("bad.yaml")
        try "batch_size: many\n".write(to: badType, atomically: true, encoding: .utf8)
        #expect { try TrainConfig.load(yaml: badType) } throws: { "\($0)".contains("batch_size") }
        #expect { try TrainConfig.load(yaml: dir.appendingPathComponent("missing.yaml")) } throws: {
            "\($0)".contains("missing.yaml")
        }
        let empty = dir.appendingPathComponent("empty.yaml")
        try "".write(to: empty, atomically: true, encoding: .utf8)
        #expect(try TrainConfig.load(yaml: empty) == TrainConfig())
    }

    @Test func validationCatchesImpossibleSettings() throws {
        var c = TrainConfig()
        #expect(throws: ConfigError.self) { try c.validate() }  // no preprocessed_path
        c.preprocessedPath = "p"
        try c.validate()
        c.lrSchedulerType = "exponential"
        #expect { try c.validate() } throws: { "\($0)".contains("lr_scheduler_type") }
        c = TrainConfig()
        c.preprocessedPath = "p"
        c.fullFinetune = true
        c.loadIn4bit = true
        #expect(throws: ConfigError.self) { try c.validate() }
    }

    // MARK: one declaration per setting (TrainConfig.Settings)

    /// A value of `setting`'s type other than its default, as command-line/YAML text.
    static func sample(_ setting: any TrainSetting) -> String {
        switch setting.value(in: TrainConfig()) {
        case let value as Bool: return String(!value)
        case let value as Int: return String(value + 3)
        case let value as Double: return String(value + 0.25)
        case let value as String: return value + "-x"
        default: return ["int": "3", "float": "0.5", "string": "x"][setting.valueName]!  // an unset optional
        }
    }

    /// Whether `setting` holds `text` (as the command line reads it) in `config`.
    static func holds(_ config: TrainConfig, _ setting: any TrainSetting, _ text: String) -> Bool {
        setting.value(in: config).isSame(as: setting.parse(text)!)
    }

    @Test func everyDeclarationIsASettingWithItsOwnKey() {
        #expect(TrainConfig.settings.count == Mirror(reflecting: TrainConfig.declared).children.count)
        #expect(Set(TrainConfig.keys).count == TrainConfig.keys.count)
        #expect(TrainConfig.keys.allSatisfy { $0 == $0.lowercased() && !$0.contains("-") })
        for setting in TrainConfig.settings {
            #expect(!setting.help.isEmpty, "\(setting.key)")
            let sample = Self.sample(setting)
            #expect(!Self.holds(TrainConfig(), setting, sample), "\(setting.key): the sample is the default")
        }
    }

    @Test(arguments: TrainConfig.settings.map(\.key))
    func settingIsReadByTheCommandLineYAMLAndJSON(key: String) throws {
        let setting = TrainConfig.settings.first { $0.key == key }!
        let text = Self.sample(setting)
        // The command line: the seed's snake_case flag and its kebab-case twin; `--name value` and
        // `--name=value`, or a bare flag.
        let kebab = "--" + key.replacingOccurrences(of: "_", with: "-")
        #expect(setting.flagNames == ["--\(key)", kebab].reduce(into: []) { if !$0.contains($1) { $0.append($1) } })
        for name in setting.flagNames {
            for arguments in setting.isFlag ? [[name]] : [[name, text], ["\(name)=\(text)"]] {
                var config = TrainConfig()
                try TrainConfig.Flags(parsing: arguments).apply(to: &config)
                #expect(Self.holds(config, setting, text), "\(arguments)")
                var others = config
                setting.assign(setting.value(in: TrainConfig()), to: &others)
                #expect(others == TrainConfig(), "\(arguments) changed another setting")
            }
        }
        // The YAML file.
        let yaml = FileManager.default.temporaryDirectory.appendingPathComponent("setting-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: yaml) }
        try "\(key): \(text)\n".write(to: yaml, atomically: true, encoding: .utf8)
        let loaded = try TrainConfig.load(yaml: yaml)
        #expect(Self.holds(loaded, setting, text))
        // JSON (trainer_state.json, W&B, the report): under its key, and back.
        let json = try JSONEncoder().encode(loaded)
        let object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        #expect(object[key] != nil)
        #expect(try JSONDecoder().decode(TrainConfig.self, from: json) == loaded)
    }

    @Test func jsonHoldsEverySettingAndRoundTrips() throws {
        var config = TrainConfig()
        try TrainConfig.Flags(parsing: TrainConfig.settings.flatMap { s in
            s.isFlag ? [s.flagNames[0]] : [s.flagNames.last!, Self.sample(s)]
        }).apply(to: &config)
        for setting in TrainConfig.settings { #expect(Self.holds(config, setting, Self.sample(setting)), "\(setting.key)") }
        let json = try JSONEncoder().encode(TrainerState(config: config))
        #expect(try JSONDecoder().decode(TrainerState.self, from: json).config == config)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        #expect(Set(object.keys) == Set(TrainConfig.keys))
        // An unset optional is left out, as before; the defaults round-trip too.
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainConfig())) as! [String: Any]
        #expect(Set(defaults.keys) == Set(TrainConfig.settings.filter { !$0.value(in: TrainConfig()).isNil }.map(\.key)))
        #expect(try JSONDecoder().decode(TrainConfig.self, from: JSONEncoder().encode(TrainConfig())) == TrainConfig())
    }

    @Test func helpListsEverySettingWithItsDefault() {
        let help = Self.words(TrainConfig.settingsHelp())
        #expect(TrainConfig.settingsHelp().split(separator: "\n").allSatisfy { $0.count <= 79 })
        for setting in TrainConfig.settings {
            let label = setting.flagNames.joined(separator: ", ") + (setting.isFlag ? "" : " <\(setting.valueName)>")
            #expect(help.contains(Self.words(label + " " + setting.help)), "\(setting.key)")
            if let text = setting.defaultText { #expect(help.contains(Self.words("(default: \(text))")), "\(setting.key)") }
            #expect(setting.isFlag || setting.defaultText != nil || setting.key == "preprocessed_path" || setting.key == "gen_from",
                    "\(setting.key): --help shows no default")
        }
        #expect(help.contains("--batch_size, --batch-size <int> Samples per batch. (default: 2)"))
        #expect(help.contains("--learning_rate, --learning-rate <float> Peak learning rate. (default: 0.0002)"))
        #expect(help.contains("(default: as preprocessed)") && help.contains("--resume Continue from"))
    }

    /// `text` with every run of spaces and line breaks as one space (--help wraps its lines).
    static func words(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test func flagsWinOverTheFileWhichWinsOverDefaults() throws {
        let yaml = FileManager.default.temporaryDirectory.appendingPathComponent("flags-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: yaml) }
        try "batch_size: 8\nseed: 7\nload_in_4bit: true\n".write(to: yaml, atomically: true, encoding: .utf8)
        var c = try TrainConfig.load(yaml: yaml)
        try TrainConfig.Flags(parsing: ["--batch-size", "3", "--max_steps", "-1", "--max_steps=12", "--resume"]).apply(to: &c)
        #expect(c.batchSize == 3 && c.seed == 7 && c.loadIn4bit && c.resume && c.maxSteps == 12)
        #expect(c.gradientAccumulationSteps == TrainConfig.declared.gradientAccumulationSteps.defaultValue)
    }

    @Test func commandLineErrorsReadAsArgumentParsers() {
        func error(_ arguments: [String]) -> String {
            do { _ = try TrainConfig.Flags(parsing: arguments, otherOptions: ["--config"]) } catch { return "\(error)" }
            return "no error"
        }
        #expect(error(["--batch_sise", "3"]) == "Unknown option '--batch_sise'. Did you mean '--batch_size'?")
        #expect(error(["--confi", "x.yaml"]) == "Unknown option '--confi'. Did you mean '--config'?")
        #expect(error(["--frobnicate"]) == "Unknown option '--frobnicate'")
        #expect(error(["--batch_size"]) == "Missing value for '--batch_size <int>'")
        #expect(error(["--batch_size", "--seed", "1"]) == "Missing value for '--batch_size <int>'")
        #expect(error(["--batch-size", "many"]) == "The value 'many' is invalid for '--batch-size <int>'")
        #expect(error(["--resume=yes"]) == "The option '--resume' does not take any value, but 'yes' was specified.")
        #expect(error(["extra"]) == "Unexpected argument 'extra'")
        #expect(error(["--learning_rate", "-1e-3"]) == "no error")  // a negative number is a value
    }

    @Test func everyPresetLoads() throws {
        let folder = repositoryRoot.appendingPathComponent("configs")
        let presets = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(presets.count >= 3)
        for name in presets {
            var c = try TrainConfig.load(yaml: folder.appendingPathComponent(name))
            c.preprocessedPath = "p"
            try c.validate()
        }
    }
}
