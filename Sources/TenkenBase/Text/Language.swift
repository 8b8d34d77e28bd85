/// The language of everything tenken prints. Japanese when the locale says so, else English.
public enum Language: String, Sendable, Codable, CaseIterable {
    case ja, en

    /// Picks the language the way gettext does: LC_ALL, then LC_MESSAGES, then LANG.
    public static func fromEnvironment(_ environment: [String: String]) -> Language {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[key], !value.isEmpty {
                return value.lowercased().hasPrefix("ja") ? .ja : .en
            }
        }
        return .en
    }
}

/// A text that exists in both languages. Every user-facing string in policies and reports is one.
public struct Localized: Sendable, Codable, Hashable {
    public var ja: String
    public var en: String

    public init(ja: String, en: String) {
        self.ja = ja
        self.en = en
    }

    public subscript(language: Language) -> String {
        switch language {
        case .ja: return ja
        case .en: return en
        }
    }
}
