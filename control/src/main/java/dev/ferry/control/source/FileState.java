package dev.ferry.control.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.TimeUnit;

/**
 * What a manifest file looked like, as far as telling a change goes: size, modification time
 * (nanoseconds) and file key (device and inode, so a file replaced by a rename differs even with
 * the same size and time). A file that cannot be read is a state of its own. The watcher
 * compares states to see changes watch events missed; the pipeline re-reads only files whose
 * state changed.
 */
record FileState(Path path, long size, long modifiedNs, Object fileKey) {

    static FileState of(final Path file) {
        try {
            final BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileState(file, attributes.size(), attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS),
                attributes.fileKey());
        } catch (final IOException e) {
            return new FileState(file, -1, -1, Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? "unreadable" : "absent");
        }
    }

    /** A directory that could not be listed. */
    static FileState unlistable(final Path directory, final String why) {
        return new FileState(directory, -1, -1, why);
    }

    /** Whether the file could be stat'ed (a state worth caching a parse against). */
    boolean readable() {
        return size >= 0;
    }
}
