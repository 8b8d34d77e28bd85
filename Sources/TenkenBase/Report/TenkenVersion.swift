/// The version every program and report carries (the .debs are built with it).
public enum TenkenVersion {
    public static let current = "0.1.0"
}
