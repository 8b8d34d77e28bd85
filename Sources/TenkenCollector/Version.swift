/// The version of the tenken-collector program.
public enum TenkenCollectorVersion { public static let current = "0.1.0" }
