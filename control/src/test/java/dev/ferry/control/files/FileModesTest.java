package dev.ferry.control.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FileModesTest {
    @TempDir
    Path dir;

    private static String mode(final Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    @Test
    void shouldCreateOwnerOnlyAndGroupTraversableDirectories() throws Exception {
        FileModes.directory(dir.resolve("state"), false, Set.of("conntrack"));
        FileModes.directory(dir.resolve("run"), true, Set.of("counters"));
        assertEquals("rwx------", mode(dir.resolve("state")));
        assertEquals("rwx--x---", mode(dir.resolve("run")));
    }

    @Test
    void shouldNarrowAWiderDirectoryHoldingOnlyItsOwnFilesAndLeaveASharedOneAlone() throws Exception {
        final Path own = Files.createDirectories(dir.resolve("own"));
        Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createFile(own.resolve("conntrack"));
        FileModes.directory(own, false, Set.of("conntrack"));
        assertEquals("rwx------", mode(own));

        final Path shared = Files.createDirectories(dir.resolve("shared")); // a --run-dir /run given by mistake
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createFile(shared.resolve("someone-elses.pid"));
        FileModes.directory(shared, false, Set.of("conntrack"));
        assertEquals("rwxr-xr-x", mode(shared), "not the agent's alone: left as it was");
    }

    @Test
    void shouldNarrowFilesAndNeverWidenThem() throws Exception {
        final Path wide = Files.createFile(dir.resolve("conntrack"));
        Files.setPosixFilePermissions(wide, PosixFilePermissions.fromString("rw-rw-rw-"));
        FileModes.ownerOnly(wide);
        assertEquals("rw-------", mode(wide));
        final Path counters = Files.createFile(dir.resolve("counters"));
        Files.setPosixFilePermissions(counters, PosixFilePermissions.fromString("rw-r--r--"));
        FileModes.groupReadable(counters);
        assertEquals("rw-r-----", mode(counters));
    }
}
