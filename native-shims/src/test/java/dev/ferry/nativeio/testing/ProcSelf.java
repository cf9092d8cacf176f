package dev.ferry.nativeio.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** What this process holds, read from /proc/self: open file descriptors and mappings. */
public final class ProcSelf {
    private ProcSelf() {
    }

    public static int fdCount() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What fd {@code fd} points at, e.g. {@code socket:[1234]}, or null when it is not open. */
    public static String fdTarget(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** Lines of /proc/self/maps that mention {@code text}. */
    public static List<String> mapsContaining(String text) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(text)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
