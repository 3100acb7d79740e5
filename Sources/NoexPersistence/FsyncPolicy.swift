/// When committed data is forced to the disk (Redis' `appendfsync`), see docs/persistence.md.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Every group commit is fsynced before its replies leave: survives power loss.
    case always
    /// Commits reach the OS at once (survive a process crash); an fsync runs once a second.
    case everysec
    /// Commits reach the OS at once; the OS decides when they reach the disk.
    case no
}
