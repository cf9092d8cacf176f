package dev.ferry.conntrack;

import dev.ferry.nativeio.IpProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.ferry.conntrack.ConntrackTableTest.BACKEND;
import static dev.ferry.conntrack.ConntrackTableTest.CLIENT;
import static dev.ferry.conntrack.ConntrackTableTest.CLUSTER_IP;
import static dev.ferry.conntrack.ConntrackTableTest.T0;
import static dev.ferry.conntrack.TcpFlags.ACK;
import static dev.ferry.conntrack.TcpFlags.FIN;
import static dev.ferry.conntrack.TcpFlags.PSH;
import static dev.ferry.conntrack.TcpFlags.RST;
import static dev.ferry.conntrack.TcpFlags.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConntrackStateTrackingTest {
    static final long SECOND = 1000;
    static final long HOUR = 3600 * SECOND;

    private final ConntrackTable table = ConntrackTable.inMemory(16, ConntrackTimeouts.kubeProxyDefaults());
    private long nowMs = T0;

    @AfterEach
    void close() {
        table.close();
    }

    private long insert(final int protocol) {
        final FlowKey original = new FlowKey().setIpv4(protocol, CLIENT, 40000, CLUSTER_IP, 80);
        final FlowKey reply = new FlowKey().setIpv4(protocol, BACKEND, 8080, CLIENT, 40000);
        final long handle = table.insert(original, reply, 1, 0, nowMs);
        assertTrue(handle >= 0);
        return handle;
    }

    private int packet(final long handle, final int flags) {
        return table.onPacket(handle, flags, 60, nowMs);
    }

    private void assertState(final int expectedState, final long expectedTimeoutMs, final long handle) {
        assertEquals(ConntrackState.name(expectedState), ConntrackState.name(table.state(handle)));
        assertEquals(nowMs + expectedTimeoutMs, table.expiresAtMs(handle));
    }

    @Test
    void shouldTrackTcpHandshakeAndEstablishFor24Hours() {
        final long orig = insert(IpProtocol.TCP);
        final long reply = orig | 1;
        assertEquals(ConntrackState.NONE, table.state(orig));

        assertEquals(ConntrackState.SYN_SENT, packet(orig, SYN));
        assertState(ConntrackState.SYN_SENT, 120 * SECOND, orig);

        nowMs += 10;
        assertEquals(ConntrackState.SYN_RECV, packet(reply, SYN | ACK));
        assertState(ConntrackState.SYN_RECV, 60 * SECOND, orig);

        nowMs += 10;
        assertEquals(ConntrackState.ESTABLISHED, packet(orig, ACK));
        assertState(ConntrackState.ESTABLISHED, 24 * HOUR, orig);

        nowMs += HOUR;
        assertEquals(ConntrackState.ESTABLISHED, packet(reply, PSH | ACK));
        assertState(ConntrackState.ESTABLISHED, 24 * HOUR, reply);

        nowMs += 24 * HOUR - 1;
        assertEquals(0, table.gc(nowMs, 16));
        nowMs += 1;
        assertEquals(1, table.gc(nowMs, 16));
        assertFalse(table.isLive(orig));
    }

    @Test
    void shouldWalkActiveCloseThroughFinWaitCloseWaitLastAckTimeWait() {
        final long orig = insert(IpProtocol.TCP);
        final long reply = orig | 1;
        packet(orig, SYN);
        packet(reply, SYN | ACK);
        packet(orig, ACK);

        nowMs += SECOND;
        assertEquals(ConntrackState.FIN_WAIT, packet(orig, FIN | ACK));
        assertState(ConntrackState.FIN_WAIT, 120 * SECOND, orig);
        assertEquals(ConntrackState.FIN_WAIT, packet(orig, FIN | ACK), "retransmitted FIN");

        nowMs += SECOND;
        assertEquals(ConntrackState.CLOSE_WAIT, packet(reply, ACK));
        assertState(ConntrackState.CLOSE_WAIT, HOUR, orig);

        nowMs += SECOND;
        assertEquals(ConntrackState.LAST_ACK, packet(reply, FIN | ACK));
        assertState(ConntrackState.LAST_ACK, 30 * SECOND, orig);
        assertEquals(ConntrackState.LAST_ACK, packet(reply, ACK), "ACK from the side that sent the last FIN");

        nowMs += SECOND;
        assertEquals(ConntrackState.TIME_WAIT, packet(orig, ACK));
        assertState(ConntrackState.TIME_WAIT, 120 * SECOND, orig);

        nowMs += 10;
        assertEquals(ConntrackState.SYN_SENT, packet(orig, SYN), "port reuse re-opens from TIME_WAIT");
    }

    @Test
    void shouldGoToLastAckWhenFinsCross() {
        final long orig = insert(IpProtocol.TCP);
        packet(orig, SYN);
        packet(orig | 1, SYN | ACK);
        packet(orig, ACK);

        assertEquals(ConntrackState.FIN_WAIT, packet(orig | 1, FIN | ACK));
        assertEquals(ConntrackState.LAST_ACK, packet(orig, FIN | ACK));
        assertEquals(ConntrackState.TIME_WAIT, packet(orig | 1, ACK));
    }

    @Test
    void shouldCloseOnResetFromAnyState() {
        final long orig = insert(IpProtocol.TCP);
        packet(orig, SYN);
        packet(orig | 1, SYN | ACK);
        packet(orig, ACK);

        nowMs += SECOND;
        assertEquals(ConntrackState.CLOSE, packet(orig | 1, RST));
        assertState(ConntrackState.CLOSE, 10 * SECOND, orig);

        nowMs += 10 * SECOND;
        assertEquals(1, table.gc(nowMs, 16));
    }

    @Test
    void shouldResetDuringHandshake() {
        final long orig = insert(IpProtocol.TCP);
        packet(orig, SYN);

        assertEquals(ConntrackState.CLOSE, packet(orig | 1, RST | ACK));
    }

    @Test
    void shouldPickUpMidStreamTcpAsEstablished() {
        final long orig = insert(IpProtocol.TCP);

        assertEquals(ConntrackState.ESTABLISHED, packet(orig, ACK));
        assertState(ConntrackState.ESTABLISHED, 24 * HOUR, orig);
    }

    @Test
    void shouldIgnoreOutOfStateSegments() {
        final long orig = insert(IpProtocol.TCP);
        packet(orig, SYN);

        assertEquals(ConntrackState.SYN_SENT, packet(orig, FIN), "FIN before the handshake");
        assertEquals(ConntrackState.SYN_SENT, packet(orig | 1, ACK), "bare ACK from the server");
        assertEquals(ConntrackState.SYN_SENT, packet(orig, SYN | ACK), "SYN/ACK from the client");
    }

    @Test
    void shouldKeepUdpUnrepliedFor30SecondsAndAssuredFor120() {
        final long orig = insert(IpProtocol.UDP);
        assertState(ConntrackState.UDP_UNREPLIED, 30 * SECOND, orig);

        nowMs += 5 * SECOND;
        assertEquals(ConntrackState.UDP_UNREPLIED, packet(orig, 0));
        assertState(ConntrackState.UDP_UNREPLIED, 30 * SECOND, orig);

        nowMs += 5 * SECOND;
        assertEquals(ConntrackState.UDP_ASSURED, packet(orig | 1, SYN | FIN));
        assertState(ConntrackState.UDP_ASSURED, 120 * SECOND, orig);

        nowMs += 60 * SECOND;
        assertEquals(ConntrackState.UDP_ASSURED, packet(orig, 0));
        assertState(ConntrackState.UDP_ASSURED, 120 * SECOND, orig);

        nowMs += 120 * SECOND - 1;
        assertEquals(0, table.gc(nowMs, 16));
        nowMs += 1;
        assertEquals(1, table.gc(nowMs, 16));
    }

    @Test
    void shouldExpireUnrepliedUdpAfter30Seconds() {
        final long orig = insert(IpProtocol.UDP);
        packet(orig, 0);

        nowMs += 30 * SECOND;
        assertEquals(1, table.gc(nowMs, 16));
        assertEquals(0, table.size());
    }

    @Test
    void shouldTrackIcmpAndSctpGenerically() {
        final long icmp = insert(IpProtocol.ICMP);
        assertEquals(ConntrackState.ICMP, packet(icmp | 1, 0));
        assertState(ConntrackState.ICMP, 30 * SECOND, icmp);

        final FlowKey original = new FlowKey().setIpv4(IpProtocol.SCTP, CLIENT, 5000, CLUSTER_IP, 3868);
        final FlowKey reply = new FlowKey().setIpv4(IpProtocol.SCTP, BACKEND, 3868, CLIENT, 5000);
        final long sctp = table.insert(original, reply, 0, 0, nowMs);
        assertEquals(ConntrackState.SCTP_UNREPLIED, packet(sctp, 0));
        assertState(ConntrackState.SCTP_UNREPLIED, 30 * SECOND, sctp);
        assertEquals(ConntrackState.SCTP_REPLIED, packet(sctp | 1, 0));
        assertState(ConntrackState.SCTP_REPLIED, 210 * SECOND, sctp);
    }

    @Test
    void shouldSkipExpiryWritesWithinRefreshGranularity() {
        final long orig = insert(IpProtocol.UDP);
        packet(orig | 1, 0);
        final long expiresAtMs = table.expiresAtMs(orig);

        nowMs += ConntrackTable.REFRESH_GRANULARITY_MS - 1;
        packet(orig, 0);
        assertEquals(expiresAtMs, table.expiresAtMs(orig));

        nowMs += 1;
        packet(orig, 0);
        assertEquals(nowMs + 120 * SECOND, table.expiresAtMs(orig));
    }

    @Test
    void shouldNotReviveEntryThatGcIsDeleting() {
        final long orig = insert(IpProtocol.UDP);
        assertTrue(table.delete(orig));

        assertEquals(ConntrackState.NONE, packet(orig, 0));
    }

    @Test
    void shouldNameEveryState() {
        assertEquals("ESTABLISHED", ConntrackState.name(ConntrackState.ESTABLISHED));
        assertEquals("UDP_ASSURED", ConntrackState.name(ConntrackState.UDP_ASSURED));
        assertEquals("UNKNOWN(99)", ConntrackState.name(99));
        for (int state = 0; state < ConntrackState.COUNT; state++) {
            assertFalse(ConntrackState.name(state).startsWith("UNKNOWN"));
        }
    }

    @Test
    void shouldUseKubeProxyAndNetfilterDefaults() {
        final ConntrackTimeouts t = ConntrackTimeouts.kubeProxyDefaults();
        assertEquals(24 * HOUR, t.tcpEstablishedMs());
        assertEquals(HOUR, t.tcpCloseWaitMs());
        assertEquals(120 * SECOND, t.tcpSynSentMs());
        assertEquals(60 * SECOND, t.tcpSynRecvMs());
        assertEquals(120 * SECOND, t.tcpFinWaitMs());
        assertEquals(30 * SECOND, t.tcpLastAckMs());
        assertEquals(120 * SECOND, t.tcpTimeWaitMs());
        assertEquals(10 * SECOND, t.tcpCloseMs());
        assertEquals(30 * SECOND, t.udpUnrepliedMs());
        assertEquals(120 * SECOND, t.udpAssuredMs());
        assertEquals(30 * SECOND, t.icmpMs());
        assertEquals(30 * SECOND, t.sctpUnrepliedMs());
        assertEquals(210 * SECOND, t.sctpRepliedMs());
    }
}
