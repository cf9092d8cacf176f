package dev.ferry.dataplane.lb;

import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static dev.ferry.dataplane.service.Fixtures.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The affinity records in a mapped file: kept across a restart, replaced when the file is not this layout. */
class ClientIpAffinityTableTest {
    private static final int SERVICE = 0x5e41_0001;
    private static final long NOW = 1_700_000_000_000L;
    private static final long EXPIRY = NOW + 10_800_000; // kube-proxy's default timeout, 3 h
    private static final EndpointSet ENDPOINTS = EndpointSet.of(List.of(
        Fixtures.ready("10.244.1.10", 8080, false), Fixtures.ready("10.244.2.10", 8080, false), Fixtures.ready("10.244.3.10", 8080, false)));

    @TempDir
    Path dir;

    @Test
    void shouldKeepEveryClientsBackendAcrossARestart() {
        final Path file = dir.resolve("affinity");
        try (ClientIpAffinityTable table = ClientIpAffinityTable.mapped(file, 1024)) {
            assertFalse(table.attached(), "a new file");
            for (int client = 1; client <= 100; client++) {
                assertTrue(table.record(SERVICE, ip("203.0.113.0") + client, ENDPOINTS.address(client % 3), 8080, client % 3, NOW, EXPIRY));
            }
        }
        try (ClientIpAffinityTable restarted = ClientIpAffinityTable.mapped(file, 1024)) {
            assertTrue(restarted.attached(), "the next agent attaches to the file");
            assertEquals(100, restarted.liveRecords(NOW + 1000));
            for (int client = 1; client <= 100; client++) {
                assertEquals(client % 3, restarted.lookup(SERVICE, ip("203.0.113.0") + client, ENDPOINTS, NOW + 1000, EXPIRY),
                    "client " + client + " keeps its backend");
            }
        }
    }

    @Test
    void shouldStartEmptyFromAFileOfAnotherSizeOrLayoutVersion() throws IOException {
        final Path file = dir.resolve("affinity");
        try (ClientIpAffinityTable table = ClientIpAffinityTable.mapped(file, 1024)) {
            table.record(SERVICE, ip("203.0.113.1"), ENDPOINTS.address(0), 8080, 0, NOW, EXPIRY);
        }
        try (ClientIpAffinityTable resized = ClientIpAffinityTable.mapped(file, 4096)) {
            assertFalse(resized.attached(), "another capacity: replaced");
            assertEquals(0, resized.liveRecords(NOW));
            resized.record(SERVICE, ip("203.0.113.1"), ENDPOINTS.address(0), 8080, 0, NOW, EXPIRY);
        }
        putInt(file, 8, ClientIpAffinityTable.LAYOUT_VERSION + 1); // as a later version would have written it
        try (ClientIpAffinityTable upgraded = ClientIpAffinityTable.mapped(file, 4096)) {
            assertFalse(upgraded.attached(), "another layout version: replaced, never misread");
            assertEquals(0, upgraded.liveRecords(NOW));
        }
    }

    @Test
    void shouldFreeSlotsWhoseWriterWasKilledInsideThem() throws IOException {
        final Path file = dir.resolve("affinity");
        try (ClientIpAffinityTable table = ClientIpAffinityTable.mapped(file, 16)) {
            table.record(SERVICE, ip("203.0.113.1"), ENDPOINTS.address(0), 8080, 0, NOW, EXPIRY);
        }
        for (int slot = 0; slot < 16; slot++) { // every slot caught mid-write (odd version), as a kill -9 inside write() leaves one
            putLong(file, ClientIpAffinityTable.HEADER_LENGTH + slot * 32L, 1);
        }
        try (ClientIpAffinityTable restarted = ClientIpAffinityTable.mapped(file, 16)) {
            assertTrue(restarted.attached());
            assertEquals(-1, restarted.lookup(SERVICE, ip("203.0.113.1"), ENDPOINTS, NOW, EXPIRY), "a torn record is not trusted");
            assertTrue(restarted.record(SERVICE, ip("203.0.113.2"), ENDPOINTS.address(1), 8080, 1, NOW, EXPIRY),
                "and its slot takes new records");
            assertEquals(1, restarted.lookup(SERVICE, ip("203.0.113.2"), ENDPOINTS, NOW, EXPIRY));
            assertEquals(0, restarted.contendedWrites());
        }
    }

    private static void putInt(final Path file, final long at, final int value) throws IOException {
        write(file, at, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, value));
    }

    private static void putLong(final Path file, final long at, final long value) throws IOException {
        write(file, at, ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, value));
    }

    private static void write(final Path file, final long at, final ByteBuffer bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(bytes, at);
        }
    }
}
