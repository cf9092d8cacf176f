package dev.ferry.control.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Removing what a test wrote outside JUnit's @TempDir (directories other users must enter, or kept across tests). */
public final class TempFiles {
    private TempFiles() {
    }

    /** Deletes {@code dir} and everything below it; nothing when it is null or gone. */
    public static void deleteRecursively(final Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
