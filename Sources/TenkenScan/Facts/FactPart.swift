/// A part of one source's facts that a gap can concern alone. Only the apt source has parts: its
/// files answer separate questions, and a rule is held back only by gaps in what it reads.
public enum FactPart: String, Sendable, Hashable {
    /// The package lists' contents: which updates are pending, and the packages' Debian tags.
    case packageLists
    /// When the lists were last downloaded (Release files, the update stamp).
    case listsUpdated
    /// When each pending update was first seen (the state directory's update history).
    case updateHistory
    /// Whether a reboot is pending (/run/reboot-required, the running kernel).
    case rebootState
    /// apt's configuration: automatic updates.
    case updateSettings
}
