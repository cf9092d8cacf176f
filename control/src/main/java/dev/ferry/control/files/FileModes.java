package dev.ferry.control.files;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The modes of what the agent keeps on disk: the narrowest that works (docs/OPERATIONS.md,
 * "Files and their modes"). The conntrack table, allocations and host state hold the node's
 * flows and configuration: owner only. The counters file is also readable by the group
 * {@value #READERS_GROUP} when it exists, so that {@code ferry stat} runs without root; its
 * directory is then traversable by that group. A file or directory found with a wider mode
 * (left by an older version, or made by hand) is narrowed at start, with one log line.
 */
public final class FileModes {
    private static final Logger LOG = Logger.getLogger(FileModes.class.getName());
    /** The group whose members may read the counters (ferry stat); optional. */
    public static final String READERS_GROUP = "ferry";

    public static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    public static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> GROUP_READABLE_FILE = PosixFilePermissions.fromString("rw-r-----");
    public static final Set<PosixFilePermission> GROUP_TRAVERSABLE_DIRECTORY = PosixFilePermissions.fromString("rwx--x---");

    private FileModes() {
    }

    /**
     * A directory the agent keeps its files in, created if missing, then narrowed with
     * {@code narrow} unless it held things before that are not the agent's (a --run-dir /run
     * given by mistake must not become unreadable to the rest of the node).
     *
     * @param ownFiles names of the files the agent keeps there
     */
    public static void directory(final Path directory, final boolean groupTraversable, final Set<String> ownFiles) {
        try {
            final boolean existed = Files.isDirectory(directory);
            Files.createDirectories(directory);
            if (existed) {
                try (var entries = Files.list(directory)) {
                    if (entries.anyMatch(e -> !ownFiles.contains(e.getFileName().toString()))) {
                        return; // shared with others: leave its mode alone
                    }
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot create " + directory + ": " + e.getMessage(), e);
        }
        if (groupTraversable) {
            groupReadable(directory);
        } else {
            ownerOnly(directory);
        }
    }

    /** Holds flows or state: owner only. */
    public static void ownerOnly(final Path path) {
        narrow(path, Files.isDirectory(path) ? OWNER_ONLY_DIRECTORY : OWNER_ONLY_FILE, false);
    }

    /** Readable (a file) or traversable (a directory) by {@value #READERS_GROUP}, when that group exists. */
    public static void groupReadable(final Path path) {
        narrow(path, Files.isDirectory(path) ? GROUP_TRAVERSABLE_DIRECTORY : GROUP_READABLE_FILE, true);
    }

    private static void narrow(final Path path, final Set<PosixFilePermission> wanted, final boolean readersGroup) {
        try {
            final PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            if (view == null) {
                return; // not a POSIX file system: nothing to narrow
            }
            final Set<PosixFilePermission> current = view.readAttributes().permissions();
            if (!current.equals(wanted)) {
                if (!wanted.containsAll(current)) {
                    LOG.info("narrowed " + path + " from " + PosixFilePermissions.toString(current) + " to "
                        + PosixFilePermissions.toString(wanted));
                }
                view.setPermissions(wanted);
            }
            if (readersGroup) {
                final GroupPrincipal group = readersGroup(path);
                if (group != null && !group.equals(view.readAttributes().group())) {
                    view.setGroup(group);
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot set the mode of " + path + ": " + e.getMessage(), e);
        }
    }

    private static GroupPrincipal readersGroup(final Path path) throws IOException {
        try {
            return path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(READERS_GROUP);
        } catch (final UserPrincipalNotFoundException absent) {
            return null;
        }
    }
}
