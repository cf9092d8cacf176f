package dev.ferry.conntrack;

import dev.ferry.nativeio.IpProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.ferry.conntrack.ConntrackTableTest.BACKEND;
import static dev.ferry.conntrack.ConntrackTableTest.CLIENT;
import static dev.ferry.conntrack.ConntrackTableTest.CLUSTER_IP;
import static dev.ferry.conntrack.ConntrackTableTest.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MappedConntrackTableTest {
    private static final ConntrackTimeouts TIMEOUTS = ConntrackTimeouts.kubeProxyDefaults();

    @TempDir
    Path dir;

    private static FlowKey original(final int port) {
        return new FlowKey().setIpv4(IpProtocol.TCP, CLIENT, port, CLUSTER_IP, 80);
    }

    private static FlowKey reply(final int port) {
        return new FlowKey().setIpv4(IpProtocol.TCP, BACKEND, 8080, CLIENT, port);
    }

    /**
     * A full file system at start: a clear error, not a JVM killed by SIGBUS when the mapping's
     * pages are first touched. Runs a child JVM in a private mount namespace (unshare -m) with
     * a 1 MiB tmpfs as the state directory, so nothing outside the child sees the mount.
     */
    @Test
    void shouldFailWithAClearErrorOnAFullFileSystemInsteadOfCrashing() throws Exception {
        final Path state = Files.createDirectories(dir.resolve("state"));
        final Path probe = dir.resolve("Probe.java");
        Files.writeString(probe, """
            public class Probe {
                public static void main(String[] args) {
                    try (var table = dev.ferry.conntrack.ConntrackTable.mapped(java.nio.file.Path.of(args[0], "conntrack"), 100_000,
                            dev.ferry.conntrack.ConntrackTimeouts.kubeProxyDefaults())) {
                        System.out.println("created " + table.capacity());
                    } catch (java.io.UncheckedIOException e) {
                        System.out.println("refused: " + e.getMessage());
                    }
                }
            }
            """);
        final String javaCommand = ProcessHandle.current().info().command().orElseThrow();
        // the test JVM's module flags (Agrona needs jdk.internal.misc), as the agent's launcher passes them
        final String flags = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("--add-") || a.startsWith("--enable-native-access") || a.startsWith("--sun-misc"))
            .map(a -> "'" + a + "' ").collect(java.util.stream.Collectors.joining());
        final String script = "mount -t tmpfs -o size=1m ferry-test-full '" + state + "' && exec '" + javaCommand + "' " + flags + "-XX:ErrorFile='"
            + dir.resolve("hs_err_%p.log") + "' -cp '" + System.getProperty("java.class.path") + "' '" + probe + "' '" + state + "'";
        final Process child = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
            .redirectErrorStream(true).start();
        final String output = new String(child.getInputStream().readAllBytes());
        assertTrue(child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), "the child JVM crashed or could not run: " + output);
        assertTrue(output.contains("refused: cannot open conntrack table file") && output.contains("No space left on device"), output);
    }

    @Test
    void shouldAttachToExistingFileAndKeepEntries() {
        final Path file = dir.resolve("conntrack.map");
        final long handle;
        try (ConntrackTable table = ConntrackTable.mapped(file, 100, TIMEOUTS)) {
            assertFalse(table.attached());
            for (int port = 1000; port < 1050; port++) {
                assertTrue(table.insert(original(port), reply(port), port, 1, T0) >= 0);
            }
            handle = table.find(original(1010));
            table.onPacket(handle, TcpFlags.ACK, 100, T0);
            table.delete(table.find(original(1020)));
        }

        try (ConntrackTable table = ConntrackTable.mapped(file, 100, TIMEOUTS)) {
            assertTrue(table.attached());
            assertEquals(49, table.size());
            assertEquals(51, table.freeCount());
            assertEquals(handle, table.find(original(1010)));
            assertEquals(handle | 1, table.find(reply(1010)));
            assertEquals(ConntrackState.ESTABLISHED, table.state(handle));
            assertEquals(1010, table.serviceId(handle));
            assertEquals(100, table.bytes(handle));
            assertEquals(ConntrackTable.NOT_FOUND, table.find(original(1020)));
            for (int port = 1000; port < 1050; port++) {
                if (port != 1020) {
                    assertTrue(table.find(reply(port)) >= 0, "port " + port);
                }
            }
            assertTrue(table.insert(original(2000), reply(2000), 0, 0, T0) >= 0);
            assertEquals(ConntrackTable.ORIGINAL_EXISTS, table.insert(original(1000), reply(3000), 0, 0, T0));
        }
    }

    @Test
    void shouldRecreateFileWhenCapacityDiffers() {
        final Path file = dir.resolve("conntrack.map");
        try (ConntrackTable table = ConntrackTable.mapped(file, 100, TIMEOUTS)) {
            table.insert(original(1000), reply(1000), 0, 0, T0);
        }

        try (ConntrackTable table = ConntrackTable.mapped(file, 200, TIMEOUTS)) {
            assertFalse(table.attached());
            assertEquals(0, table.size());
            assertEquals(200, table.freeCount());
            assertEquals(ConntrackTable.NOT_FOUND, table.find(original(1000)));
        }
    }

    @Test
    void shouldRecreateFileWithBadMagic() throws Exception {
        final Path file = dir.resolve("conntrack.map");
        try (ConntrackTable table = ConntrackTable.mapped(file, 10, TIMEOUTS)) {
            table.insert(original(1000), reply(1000), 0, 0, T0);
        }
        final byte[] bytes = Files.readAllBytes(file);
        bytes[0] ^= 0x55;
        Files.write(file, bytes);

        try (ConntrackTable table = ConntrackTable.mapped(file, 10, TIMEOUTS)) {
            assertFalse(table.attached());
            assertEquals(0, table.size());
        }
    }

    @Test
    void shouldFreeEntriesLeftHalfInsertedByACrash() {
        final Path file = dir.resolve("conntrack.map");
        try (ConntrackTable table = ConntrackTable.mapped(file, 10, TIMEOUTS)) {
            table.insert(original(1000), reply(1000), 0, 0, T0);
            final long handle = table.insert(original(1001), reply(1001), 0, 0, T0);
            // Simulate a crash between claiming and publishing: entry back to CLAIMED.
            forceStatus(file, handle, ConntrackLayout.STATUS_CLAIMED, table);
        }

        try (ConntrackTable table = ConntrackTable.mapped(file, 10, TIMEOUTS)) {
            assertTrue(table.attached());
            assertEquals(1, table.size());
            assertEquals(9, table.freeCount());
            assertEquals(ConntrackTable.NOT_FOUND, table.find(original(1001)));
            assertTrue(table.insert(original(1001), reply(1001), 0, 0, T0) >= 0);
        }
    }

    private static void forceStatus(final Path file, final long handle, final int status, final ConntrackTable table) {
        // Goes through the live mapping: same bytes the next open reads.
        table.forEach(h -> {
            if (h == handle) {
                table.testOnlySetStatus(h, status);
            }
        });
        assertTrue(Files.exists(file));
    }

    @Test
    void shouldExplainUnusableFile() {
        final Path file = dir.resolve("missing-dir").resolve("conntrack.map");

        final Exception ex = assertThrows(java.io.UncheckedIOException.class, () -> ConntrackTable.mapped(file, 10, TIMEOUTS));
        assertTrue(ex.getMessage().contains(file.toString()), ex.getMessage());
    }

    @Test
    void shouldRejectCapacityOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> ConntrackTable.inMemory(0, TIMEOUTS));
        assertThrows(IllegalArgumentException.class, () -> ConntrackTable.inMemory(ConntrackTable.MAX_CAPACITY + 1, TIMEOUTS));
    }
}
