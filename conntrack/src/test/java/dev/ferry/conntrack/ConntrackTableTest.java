package dev.ferry.conntrack;

import dev.ferry.nativeio.IpProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.ferry.conntrack.FlowKeyTest.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConntrackTableTest {
    static final long T0 = 1_700_000_000_000L;
    static final int CLIENT = ip(10, 244, 1, 5);
    static final int CLUSTER_IP = ip(10, 96, 0, 10);
    static final int BACKEND = ip(10, 244, 2, 7);
    static final int NODE_IP = ip(198, 18, 0, 1);

    private final ConntrackTable table = ConntrackTable.inMemory(64, ConntrackTimeouts.kubeProxyDefaults());
    private final FlowKey original = new FlowKey();
    private final FlowKey reply = new FlowKey();
    private final FlowKey probe = new FlowKey();

    @AfterEach
    void close() {
        table.close();
    }

    /** Client to ClusterIP, DNAT to the backend: the reply comes from the backend. */
    long insertServiceFlow(final int protocol, final int clientPort, final int backend, final int backendPort) {
        original.setIpv4(protocol, CLIENT, clientPort, CLUSTER_IP, 80);
        reply.setIpv4(protocol, backend, backendPort, CLIENT, clientPort);
        return table.insert(original, reply, 7, 0, T0);
    }

    @Test
    void shouldFindFlowByOriginalAndReplyTuple() {
        final long handle = insertServiceFlow(IpProtocol.TCP, 40000, BACKEND, 8080);

        assertTrue(handle >= 0);
        assertEquals(0, ConntrackTable.direction(handle));
        final long byOriginal = table.find(probe.setIpv4(6, CLIENT, 40000, CLUSTER_IP, 80));
        final long byReply = table.find(probe.setIpv4(6, BACKEND, 8080, CLIENT, 40000));
        assertEquals(handle, byOriginal);
        assertEquals(1, ConntrackTable.direction(byReply));
        assertEquals(ConntrackTable.entryIndex(handle), ConntrackTable.entryIndex(byReply));
        assertEquals(ConntrackTable.NOT_FOUND, table.find(probe.setIpv4(6, CLIENT, 40001, CLUSTER_IP, 80)));
        assertEquals(ConntrackTable.NOT_FOUND, table.find(probe.setIpv4(17, CLIENT, 40000, CLUSTER_IP, 80)));

        final FlowKey out = new FlowKey();
        table.readOriginal(byReply, out);
        assertEquals(original, out);
        table.readReply(byOriginal, out);
        assertEquals(reply, out);
        assertEquals(7, table.serviceId(byReply));
        assertEquals(0, table.flags(byReply));
        assertEquals(1, table.size());
    }

    @Test
    void shouldReadATupleOnlyWhileTheHandlesFlowIsLiveNotAfterItsEntryWasReused() {
        final long handle = insertServiceFlow(IpProtocol.TCP, 40000, BACKEND, 8080);
        final FlowKey out = new FlowKey();
        assertTrue(table.readOriginalIfLive(handle, out));
        assertEquals(original, out);
        assertTrue(table.readReplyIfLive(handle, out));
        assertEquals(reply, out);

        assertTrue(table.delete(handle));
        assertFalse(table.readOriginalIfLive(handle, out), "deleted");
        // the freed entry goes to the next insert: the old handle names a flow that is gone
        final long next = insertServiceFlow(IpProtocol.TCP, 40001, BACKEND, 8080);
        assertEquals(ConntrackTable.entryIndex(handle), ConntrackTable.entryIndex(next), "the entry was reused");
        assertFalse(table.readOriginalIfLive(handle, out), "reused by another flow");
        assertFalse(table.readReplyIfLive(handle, out), "reused by another flow");
        assertTrue(table.readOriginalIfLive(next, out));
        assertEquals(40001, out.srcPort());
    }

    @Test
    void shouldStoreOpaqueServiceIdAndFlags() {
        original.setIpv4(17, CLIENT, 1, CLUSTER_IP, 53);
        reply.setIpv4(17, BACKEND, 53, NODE_IP, 61000);
        final long handle = table.insert(original, reply, 0x7FFF_0001, 0x8000_0001, T0);

        assertEquals(0x7FFF_0001, table.serviceId(handle));
        assertEquals(0x8000_0001, table.flags(handle));
    }

    @Test
    void shouldRejectNewFlowWhenTableFull() {
        final long[] handles = new long[table.capacity()];
        for (int i = 0; i < handles.length; i++) {
            handles[i] = insertServiceFlow(6, 20000 + i, BACKEND, 8080);
            assertTrue(handles[i] >= 0, "insert " + i);
        }

        assertEquals(ConntrackTable.TABLE_FULL, insertServiceFlow(6, 30000, BACKEND, 8080));
        assertEquals(table.capacity(), table.size());
        for (int i = 0; i < handles.length; i++) {
            final long handle = table.find(probe.setIpv4(6, BACKEND, 8080, CLIENT, 20000 + i));
            assertEquals(handles[i] | 1, handle);
            assertEquals(ConntrackState.ESTABLISHED, table.onPacket(handles[i], TcpFlags.ACK, 60, T0 + 1));
        }

        assertTrue(table.delete(handles[5]));
        assertTrue(insertServiceFlow(6, 30000, BACKEND, 8080) >= 0);
    }

    @Test
    void shouldReclaimExpiredEntryWhenFullInsteadOfRefusing() {
        for (int i = 0; i < table.capacity(); i++) {
            assertTrue(insertServiceFlow(17, 20000 + i, BACKEND, 53) >= 0);
        }
        original.setIpv4(17, CLIENT, 30000, CLUSTER_IP, 80);
        reply.setIpv4(17, BACKEND, 53, CLIENT, 30000);

        assertEquals(ConntrackTable.TABLE_FULL, table.insert(original, reply, 0, 0, T0 + 29_999));
        assertTrue(table.insert(original, reply, 0, 0, T0 + 30_000) >= 0);
    }

    @Test
    void shouldReportOriginalExistsForDuplicateInsert() {
        final long handle = insertServiceFlow(6, 40000, BACKEND, 8080);
        reply.setIpv4(6, BACKEND, 9090, CLIENT, 40000);

        assertEquals(ConntrackTable.ORIGINAL_EXISTS, table.insert(original, reply, 0, 0, T0));
        assertEquals(handle, table.find(original));
        assertEquals(1, table.size());
    }

    @Test
    void shouldReportReplyExistsAndRollBackOriginal() {
        insertServiceFlow(17, 40000, BACKEND, 53);
        // A second client flow whose reply tuple collides (same SNAT port chosen twice).
        original.setIpv4(17, ip(10, 244, 1, 6), 40000, CLUSTER_IP, 80);
        reply.setIpv4(17, BACKEND, 53, CLIENT, 40000);

        assertEquals(ConntrackTable.REPLY_EXISTS, table.insert(original, reply, 0, 0, T0));
        assertEquals(ConntrackTable.NOT_FOUND, table.find(original));
        assertEquals(1, table.size());
        assertEquals(table.capacity() - 1, table.freeCount());

        reply.setIpv4(17, BACKEND, 53, NODE_IP, 40001);
        assertTrue(table.insert(original, reply, 0, 0, T0) >= 0);
        assertEquals(2, table.size());
    }

    /** A masqueraded TCP flow driven through the handshake; the reply tuple is the SNAT tuple. */
    private long openTcpFlow(final int clientPort, final int snatPort) {
        original.setIpv4(IpProtocol.TCP, CLIENT, clientPort, CLUSTER_IP, 80);
        reply.setIpv4(IpProtocol.TCP, BACKEND, 8080, NODE_IP, snatPort);
        final long handle = table.insert(original, reply, 7, 0, T0);
        assertTrue(handle >= 0);
        table.onPacket(handle, TcpFlags.SYN, 60, T0);
        table.onPacket(handle | 1, TcpFlags.SYN | TcpFlags.ACK, 60, T0);
        table.onPacket(handle, TcpFlags.ACK, 52, T0);
        assertEquals(ConntrackState.ESTABLISHED, table.state(handle));
        return handle;
    }

    /** Client FIN, backend ACK, backend FIN, client ACK: TIME_WAIT. */
    private void closeGracefully(final long handle, final long nowMs) {
        table.onPacket(handle, TcpFlags.FIN | TcpFlags.ACK, 52, nowMs);
        table.onPacket(handle | 1, TcpFlags.ACK, 52, nowMs);
        table.onPacket(handle | 1, TcpFlags.FIN | TcpFlags.ACK, 52, nowMs);
        table.onPacket(handle, TcpFlags.ACK, 52, nowMs);
        assertEquals(ConntrackState.TIME_WAIT, table.state(handle));
    }

    @Test
    void shouldTakeOverTheTupleOfAFlowInTimeWait() {
        final long old = openTcpFlow(40000, 61000);
        closeGracefully(old, T0 + 1000);

        final long holder = table.find(reply);
        assertTrue(table.isOver(holder, T0 + 2000));
        assertTrue(table.deleteIfOver(holder, T0 + 2000));
        assertFalse(table.deleteIfOver(holder, T0 + 2000), "deleted once");
        assertEquals(ConntrackTable.NOT_FOUND, table.find(reply));

        original.setIpv4(IpProtocol.TCP, ip(10, 244, 1, 6), 50000, CLUSTER_IP, 80);
        final long taken = table.insert(original, reply, 7, 0, T0 + 2000);
        assertTrue(taken >= 0, "the new flow gets the finished flow's reply tuple");
        assertEquals(taken | 1, table.find(reply));
        assertEquals(1, table.size());
        assertEquals(table.capacity() - 1, table.freeCount());
    }

    @Test
    void shouldTakeOverTheTupleOfAResetFlow() {
        final long old = openTcpFlow(40000, 61000);
        table.onPacket(old | 1, TcpFlags.RST, 40, T0 + 1000);
        assertEquals(ConntrackState.CLOSE, table.state(old));
        assertTrue(table.isOver(old, T0 + 1000));
        assertTrue(table.deleteIfOver(table.find(reply), T0 + 1000));
        assertEquals(0, table.size());
    }

    @Test
    void shouldNeverDeleteALiveFlowAsOver() {
        final long established = openTcpFlow(40000, 61000);
        original.setIpv4(IpProtocol.TCP, CLIENT, 40001, CLUSTER_IP, 80);
        reply.setIpv4(IpProtocol.TCP, BACKEND, 8080, NODE_IP, 61001);
        final long synSent = table.insert(original, reply, 7, 0, T0);
        table.onPacket(synSent, TcpFlags.SYN, 60, T0);
        final long finWait = openTcpFlow(40002, 61002);
        table.onPacket(finWait, TcpFlags.FIN | TcpFlags.ACK, 52, T0);
        original.setIpv4(IpProtocol.UDP, CLIENT, 40003, CLUSTER_IP, 53);
        reply.setIpv4(IpProtocol.UDP, BACKEND, 53, NODE_IP, 61003);
        final long udp = table.insert(original, reply, 7, 0, T0);
        table.onPacket(udp, 0, 60, T0);

        final long nowMs = T0 + 29_000; // before the 30 s unreplied UDP timeout and every TCP one
        for (final long handle : new long[] {established, synSent, finWait, udp}) {
            assertFalse(table.isOver(handle, nowMs), ConntrackState.name(table.state(handle)));
            assertFalse(table.deleteIfOver(handle, nowMs), ConntrackState.name(table.state(handle)));
            assertFalse(table.deleteIfOver(handle | 1, nowMs));
            assertTrue(table.isLive(handle));
        }
        assertEquals(4, table.size());
        assertEquals(udp | 1, table.find(reply), "still findable after the refused takeovers");
    }

    @Test
    void shouldTakeOverAnExpiredUdpFlowBeforeGcSweepsIt() {
        original.setIpv4(IpProtocol.UDP, CLIENT, 40000, CLUSTER_IP, 53);
        reply.setIpv4(IpProtocol.UDP, BACKEND, 53, NODE_IP, 61000);
        final long udp = table.insert(original, reply, 7, 0, T0);
        table.onPacket(udp, 0, 60, T0);
        table.onPacket(udp | 1, 0, 60, T0);
        assertEquals(ConntrackState.UDP_ASSURED, table.state(udp));

        assertFalse(table.deleteIfOver(udp, T0 + 119_000), "replied UDP lives 120 s");
        assertTrue(table.deleteIfOver(udp, T0 + 120_000));
        assertEquals(0, table.size());
    }

    @Test
    void shouldNotTakeOverThroughAStaleHandleOnceTheEntryIsReused() {
        final long old = openTcpFlow(40000, 61000);
        table.onPacket(old, TcpFlags.RST, 40, T0);
        assertTrue(table.delete(old));
        final long reused = openTcpFlow(40001, 61001);
        assertEquals(ConntrackTable.entryIndex(old), ConntrackTable.entryIndex(reused));
        table.onPacket(reused, TcpFlags.RST, 40, T0);

        assertFalse(table.isOver(old, T0), "a stale handle names no live flow");
        assertFalse(table.deleteIfOver(old, T0));
        assertTrue(table.isLive(reused));
    }

    @Test
    void shouldGiveTheLastPacketTimeOfAFlow() {
        final long handle = openTcpFlow(40000, 61000);
        closeGracefully(handle, T0 + 5_000);
        assertEquals(T0 + 5_000, table.lastPacketMs(handle));
    }

    @Test
    void shouldDeleteBothKeysAndFreeEntry() {
        final long handle = insertServiceFlow(6, 40000, BACKEND, 8080);

        assertTrue(table.delete(handle | 1));
        assertFalse(table.delete(handle));
        assertEquals(ConntrackTable.NOT_FOUND, table.find(original));
        assertEquals(ConntrackTable.NOT_FOUND, table.find(reply));
        assertEquals(0, table.size());
        assertEquals(table.capacity(), table.freeCount());
        assertEquals(0, table.tombstoneCount(), "tombstones at chain ends are cleaned");
    }

    @Test
    void shouldIgnoreStaleHandleAfterEntryIsReused() {
        final long stale = insertServiceFlow(17, 40000, BACKEND, 53);
        assertTrue(table.delete(stale));
        final long reused = insertServiceFlow(17, 40001, BACKEND, 53);

        assertEquals(ConntrackTable.entryIndex(stale), ConntrackTable.entryIndex(reused));
        assertEquals(ConntrackTable.generation(stale) + 1, ConntrackTable.generation(reused));
        assertFalse(table.isLive(stale));
        assertFalse(table.delete(stale | 1));
        assertEquals(ConntrackState.NONE, table.onPacket(stale | 1, 0, 100, T0));
        assertTrue(table.isLive(reused));
        assertEquals(ConntrackState.UDP_UNREPLIED, table.state(reused));
        assertEquals(0, table.packets(reused | 1));
    }

    @Test
    void shouldCountPacketsAndBytesPerDirection() {
        final long handle = insertServiceFlow(17, 40000, BACKEND, 53);
        table.onPacket(handle, 0, 100, T0);
        table.onPacket(handle, 0, 50, T0);
        table.onPacket(handle | 1, 0, 400, T0);

        assertEquals(2, table.packets(handle));
        assertEquals(150, table.bytes(handle));
        assertEquals(1, table.packets(handle | 1));
        assertEquals(400, table.bytes(handle | 1));
    }

    @Test
    void shouldGcExpiredEntriesInSlicesAndKeepLiveOnes() {
        final List<Long> udp = new ArrayList<>();
        final List<Long> tcp = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            final long u = insertServiceFlow(17, 20000 + i, BACKEND, 53);
            table.onPacket(u, 0, 60, T0);
            udp.add(u);
            final long t = insertServiceFlow(6, 30000 + i, BACKEND, 8080);
            table.onPacket(t, TcpFlags.SYN, 60, T0);
            table.onPacket(t | 1, TcpFlags.SYN | TcpFlags.ACK, 60, T0);
            table.onPacket(t, TcpFlags.ACK, 60, T0);
            tcp.add(t);
        }
        final long later = T0 + 31_000; // UDP unreplied (30 s) expired, TCP established (24 h) not

        final int firstSlice = table.gc(later, 16);
        assertTrue(firstSlice <= 16);
        int reclaimed = firstSlice;
        for (int i = 0; i < 10; i++) {
            reclaimed += table.gc(later, 16);
        }

        assertEquals(20, reclaimed);
        assertEquals(20, table.size());
        for (final long u : udp) {
            assertFalse(table.isLive(u));
        }
        for (final long t : tcp) {
            table.readOriginal(t, probe);
            assertEquals(t, table.find(probe));
            assertEquals(ConntrackState.ESTABLISHED, table.state(t));
        }
        assertEquals(0, table.gc(later, 1000));
        assertEquals(table.capacity() - 20, table.freeCount());
    }

    @Test
    void shouldScanNoMoreThanTheSliceAskedFor() {
        for (int i = 0; i < 10; i++) {
            insertServiceFlow(17, 20000 + i, BACKEND, 53);
        }

        assertEquals(0, table.gc(T0 + 60_000, 0));
        // entries 0..9 are used: a slice of 4 reclaims exactly 4
        assertEquals(4, table.gc(T0 + 60_000, 4));
        assertEquals(6, table.size());
    }

    @Test
    void shouldFlushOnlyFlowsOfRemovedBackendAndProtocol() {
        final int otherBackend = ip(10, 244, 3, 9);
        for (int i = 0; i < 5; i++) {
            insertServiceFlow(17, 20000 + i, BACKEND, 53);
            insertServiceFlow(17, 21000 + i, otherBackend, 53);
            insertServiceFlow(6, 22000 + i, BACKEND, 53);
            insertServiceFlow(17, 23000 + i, BACKEND, 5353);
        }

        assertEquals(5, table.flushBackendIpv4(IpProtocol.UDP, BACKEND, 53));
        assertEquals(15, table.size());
        assertEquals(ConntrackTable.NOT_FOUND, table.find(probe.setIpv4(17, BACKEND, 53, CLIENT, 20000)));
        assertTrue(table.find(probe.setIpv4(17, otherBackend, 53, CLIENT, 21000)) >= 0);
        assertTrue(table.find(probe.setIpv4(6, BACKEND, 53, CLIENT, 22000)) >= 0);
        assertTrue(table.find(probe.setIpv4(17, BACKEND, 5353, CLIENT, 23000)) >= 0);

        assertEquals(5, table.flushBackendIpv4(0, BACKEND, 53));
        assertEquals(10, table.size());
    }

    @Test
    void shouldVisitEveryLiveEntryOnce() {
        for (int i = 0; i < 10; i++) {
            insertServiceFlow(17, 20000 + i, BACKEND, 53);
        }
        table.delete(table.find(probe.setIpv4(17, CLIENT, 20003, CLUSTER_IP, 80)));

        final List<Long> seen = new ArrayList<>();
        table.forEach(seen::add);

        assertEquals(9, seen.size());
        for (final long handle : seen) {
            assertEquals(0, ConntrackTable.direction(handle));
            assertTrue(table.isLive(handle));
        }
        table.forEach(table::delete);
        assertEquals(0, table.size());
    }

    @Test
    void shouldKeepFindingFlowsAfterHeavyChurnWithoutTombstoneBuildUp() {
        final ConntrackTable small = ConntrackTable.inMemory(8, ConntrackTimeouts.kubeProxyDefaults());
        try (small) {
            final long[] live = new long[8];
            java.util.Arrays.fill(live, -1);
            final FlowKey key = new FlowKey();
            final FlowKey back = new FlowKey();
            for (int round = 0; round < 20_000; round++) {
                final int slot = round & 7;
                if (live[slot] >= 0) {
                    assertTrue(small.delete(live[slot]));
                }
                key.setIpv4(17, CLIENT, round & 0xFFFF, CLUSTER_IP, 53);
                key.reverseInto(back);
                live[slot] = small.insert(key, back, 0, 0, T0);
                assertTrue(live[slot] >= 0, "round " + round);
                assertEquals(live[slot] | 1, small.find(back));
            }
            assertEquals(8, small.size());
            assertTrue(small.tombstoneCount() < small.slotCount() / 2, "tombstones " + small.tombstoneCount());
        }
    }
}
