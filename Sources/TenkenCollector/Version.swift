public enum TenkenCollectorVersion { public static let current = "0.1.0" }
