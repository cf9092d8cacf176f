package dev.ferry.dataplane.port;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Checksums;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.nativeio.IpProtocol;
import dev.ferry.nativeio.virtio.VirtioNetHdr;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@link UdpCoalescer} writes for sequences of sent packets, and that a super-packet cut
 * the kernel's way (UDP GSO: each segment's UDP length and checksum adjusted from the partial
 * one) gives back the datagrams that went in, each with a valid checksum.
 */
class UdpCoalescerTest {
    private static final int VNET = VirtioHeader.LENGTH;
    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final List<byte[]> written = new ArrayList<>();
    private boolean failWrites;
    private final WorkerCounters counters = DataplaneCounters.inMemory(1).queue(0);
    private final UdpCoalescer coalescer = new UdpCoalescer((address, length) -> {
        final byte[] copy = new byte[length];
        new UnsafeBuffer(address, length).getBytes(0, copy);
        written.add(copy);
        return !failWrites;
    }, 0);

    UdpCoalescerTest() {
        coalescer.countInto(counters);
    }

    @Test
    void shouldJoinOneFlowsDatagramsIntoOneSuperPacketThatCutsBackIntoThem() {
        final List<byte[]> sent = List.of(udp(40000, 100, 1), udp(40000, 100, 2), udp(40000, 50, 3));
        sent.forEach(this::offer);
        assertEquals(0, written.size(), "held until the batch ends");
        coalescer.flush();

        assertEquals(1, written.size());
        final UnsafeBuffer s = new UnsafeBuffer(written.getFirst());
        assertEquals(VirtioNetHdr.F_NEEDS_CSUM, s.getByte(VirtioNetHdr.FLAGS));
        assertEquals(VirtioNetHdr.GSO_UDP_L4, s.getByte(VirtioNetHdr.GSO_TYPE));
        assertEquals(28, s.getShort(VirtioNetHdr.HDR_LEN, LE));
        assertEquals(100, s.getShort(VirtioNetHdr.GSO_SIZE, LE));
        assertEquals(20, s.getShort(VirtioNetHdr.CSUM_START, LE));
        assertEquals(6, s.getShort(VirtioNetHdr.CSUM_OFFSET, LE));
        assertEquals(28 + 250, s.getShort(VNET + 2, NET) & 0xFFFF, "IP total length over the group");
        assertEquals(8 + 250, s.getShort(VNET + 24, NET) & 0xFFFF, "UDP length over the group");
        assertEquals(s.getShort(VNET + Ipv4Packet.OFFSET_CHECKSUM, NET) & 0xFFFF, Checksums.ipv4Header(s, VNET, 20), "IP checksum");

        final List<byte[]> segments = segmentAsTheKernelDoes(written.getFirst());
        assertEquals(3, segments.size());
        for (int i = 0; i < 3; i++) {
            final byte[] in = Arrays.copyOfRange(sent.get(i), VNET, sent.get(i).length);
            assertArrayEquals(Arrays.copyOfRange(in, 20, in.length), Arrays.copyOfRange(segments.get(i), 20, segments.get(i).length),
                "datagram " + i + ": UDP header (with its checksum) and payload as it was sent");
        }
        assertEquals(3, counters.get(CounterType.UDP_COALESCED));
    }

    @Test
    void shouldWriteALoneDatagramAsItCame() {
        final byte[] one = udp(40000, 100, 1);
        offer(one);
        coalescer.flush();
        assertEquals(1, written.size());
        assertArrayEquals(one, written.getFirst());
        assertEquals(0, counters.get(CounterType.UDP_COALESCED), "a group of one is no super-packet");
    }

    @Test
    void shouldKeepOrderAndStartAGroupPerFlow() {
        offer(udp(40000, 100, 1));
        offer(udp(40000, 100, 2));
        offer(udp(40001, 100, 3)); // another flow: the first group goes out first
        offer(udp(40001, 100, 4));
        final byte[] tcp = tcp();
        assertFalse(coalescer.offer(new UnsafeBuffer(tcp), 0, tcp.length), "TCP is the caller's to write");
        assertEquals(2, written.size(), "both groups written before the TCP packet, in order");
        assertEquals(40000, srcPort(written.get(0)));
        assertEquals(40001, srcPort(written.get(1)));
        assertEquals(2, segmentAsTheKernelDoes(written.get(1)).size());
    }

    @Test
    void shouldCloseAGroupAfterAShortSegmentAndNeverTakeALongerOne() {
        for (final int payload : new int[] {100, 60, 100, 100, 120}) {
            offer(udp(40000, payload, payload));
        }
        coalescer.flush();
        // [100, 60] closed by the short one; [100, 100]; 120 is longer than the group's segments
        assertEquals(List.of(2, 2, 1), written.stream().map(w -> segmentAsTheKernelDoes(w).size()).toList());
    }

    @Test
    void shouldStopAtTheSegmentLimitAndAt64Kb() {
        for (int i = 0; i < UdpCoalescer.MAX_SEGMENTS + 6; i++) {
            offer(udp(40000, 16, i));
        }
        coalescer.flush();
        assertEquals(List.of(UdpCoalescer.MAX_SEGMENTS, 6), written.stream().map(w -> segmentAsTheKernelDoes(w).size()).toList());

        written.clear();
        for (int i = 0; i < 50; i++) {
            offer(udp(40002, 1400, i)); // 46 x 1400 + 28 fit in 65,535 bytes; 47 do not
        }
        coalescer.flush();
        assertEquals(List.of(46, 4), written.stream().map(w -> segmentAsTheKernelDoes(w).size()).toList());
        written.forEach(w -> assertTrue(w.length - VNET <= 65535));
    }

    @Test
    void shouldLeaveFragmentsOptionsAndGsoPacketsToTheCaller() {
        final byte[] fragment = udp(40000, 100, 1);
        fragment[VNET + 6] = 0x20; // more fragments
        final byte[] options = udp(40000, 100, 2);
        options[VNET] = 0x46;
        final byte[] gso = udp(40000, 100, 3);
        gso[VirtioNetHdr.GSO_TYPE] = (byte) VirtioNetHdr.GSO_UDP_L4;
        for (final byte[] packet : List.of(fragment, options, gso)) {
            assertFalse(coalescer.offer(new UnsafeBuffer(packet), 0, packet.length));
        }
        assertEquals(0, written.size());
    }

    @Test
    void shouldWriteADatagramWhoseUncheckedChecksumIsWrongAsItCame() {
        final byte[] damaged = udp(40000, 100, 2);
        damaged[damaged.length - 1] ^= 0x01; // a flipped bit the complete checksum no longer covers
        final byte[] vouched = udp(40000, 100, 3);
        vouched[VirtioNetHdr.FLAGS] = (byte) VirtioNetHdr.F_DATA_VALID; // the kernel checked it
        final byte[] first = udp(40000, 100, 1);
        offer(first);
        assertFalse(coalescer.offer(new UnsafeBuffer(damaged), 0, damaged.length), "not coalesced: its checksum must stay as it is");
        assertEquals(1, written.size(), "the group before it written out first; the damaged one is the caller's to write as it is");
        assertArrayEquals(first, written.getFirst());
        offer(vouched);
        offer(udp(40000, 100, 4));
        coalescer.flush();
        assertEquals(2, segmentAsTheKernelDoes(written.getLast()).size(), "DATA_VALID joins without a check");
    }

    @Test
    void shouldCountTheDatagramsOfAGroupWhoseWriteFailed() {
        failWrites = true;
        offer(udp(40000, 100, 1));
        offer(udp(40000, 100, 2));
        offer(udp(40000, 100, 3));
        coalescer.flush();
        assertEquals(3, counters.get(DropReason.TX_FAILED));
        assertEquals(0, counters.get(CounterType.UDP_COALESCED));
    }

    /** The packet port's frames: an Ethernet header between the virtio header and IP, which must match, and counts in csum_start. */
    @Test
    void shouldCarryTheEthernetHeaderOnThePacketPort() {
        final List<byte[]> out = new ArrayList<>();
        final UdpCoalescer ethernet = new UdpCoalescer((address, length) -> {
            final byte[] copy = new byte[length];
            new UnsafeBuffer(address, length).getBytes(0, copy);
            out.add(copy);
            return true;
        }, 14);
        final byte[] a = framed(udp(40000, 100, 1), 0x11);
        final byte[] b = framed(udp(40000, 100, 2), 0x11);
        final byte[] otherMac = framed(udp(40000, 100, 3), 0x22);
        final byte[] arp = framed(udp(40000, 100, 4), 0x11);
        arp[VNET + 12] = 0x08;
        arp[VNET + 13] = 0x06;
        for (final byte[] f : List.of(a, b, otherMac)) {
            assertTrue(ethernet.offer(new UnsafeBuffer(f), 0, f.length));
        }
        assertFalse(ethernet.offer(new UnsafeBuffer(arp), 0, arp.length), "not IPv4: the caller's");
        assertEquals(2, out.size(), "[a, b] then [otherMac], before the ARP frame");
        final UnsafeBuffer s = new UnsafeBuffer(out.getFirst());
        assertEquals(VirtioNetHdr.GSO_UDP_L4, s.getByte(VirtioNetHdr.GSO_TYPE));
        assertEquals(14 + 20, s.getShort(VirtioNetHdr.CSUM_START, LE), "csum_start counts the Ethernet header");
        assertEquals(14 + 28, s.getShort(VirtioNetHdr.HDR_LEN, LE));
        assertArrayEquals(Arrays.copyOfRange(a, VNET, VNET + 14), Arrays.copyOfRange(out.getFirst(), VNET, VNET + 14));
        assertEquals(28 + 200, s.getShort(VNET + 14 + 2, NET) & 0xFFFF);
        assertArrayEquals(otherMac, out.get(1), "a group of one as it came");
    }

    /** A TUN-style frame with an Ethernet header (destination MAC mac x 6, type IPv4) put between its virtio header and IP. */
    private static byte[] framed(final byte[] tunFrame, final int mac) {
        final byte[] f = new byte[tunFrame.length + 14];
        System.arraycopy(tunFrame, 0, f, 0, VNET);
        Arrays.fill(f, VNET, VNET + 6, (byte) mac);
        Arrays.fill(f, VNET + 6, VNET + 12, (byte) 0x33);
        f[VNET + 12] = 0x08;
        f[VNET + 13] = 0x00;
        System.arraycopy(tunFrame, VNET, f, VNET + 14, tunFrame.length - VNET);
        return f;
    }

    private void offer(final byte[] packet) {
        assertTrue(coalescer.offer(new UnsafeBuffer(packet), 0, packet.length), "a candidate is taken");
    }

    /** [virtio_net_hdr, all zero][IPv4 10.244.1.5:sport -> 10.244.2.8:5353 UDP, complete checksum, payload of byte fill]. */
    private static byte[] udp(final int sport, final int payload, final int fill) {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[VNET + 28 + payload]);
        PacketWriter.udp(b, VNET, Ipv4.parse("10.244.1.5"), sport, Ipv4.parse("10.244.2.8"), 5353, payload, (byte) fill, true);
        b.putShort(VNET + 6, (short) 0x4000, NET); // DF, as Linux sends
        b.putShort(VNET + Ipv4Packet.OFFSET_CHECKSUM, (short) 0, NET);
        b.putShort(VNET + Ipv4Packet.OFFSET_CHECKSUM, (short) Checksums.ipv4Header(b, VNET, 20), NET);
        return b.byteArray();
    }

    private static byte[] tcp() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[VNET + 40]);
        PacketWriter.tcp(b, VNET, Ipv4.parse("10.244.1.5"), 40000, Ipv4.parse("10.244.2.8"), 80, 0x10, 1, 1, 0);
        return b.byteArray();
    }

    private static int srcPort(final byte[] frame) {
        return new UnsafeBuffer(frame).getShort(VNET + 20, NET) & 0xFFFF;
    }

    /**
     * The kernel's UDP GSO on a written super-packet (__udp_gso_segment): segments of gso_size
     * payload bytes (the last one what is left), each with the IP and UDP headers copied, its own
     * lengths, and its UDP checksum: the partial one with the group's length swapped for the
     * segment's, completed over the segment. A single packet (no GSO) is returned as it is.
     */
    private static List<byte[]> segmentAsTheKernelDoes(final byte[] frame) {
        final UnsafeBuffer f = new UnsafeBuffer(frame);
        final byte[] ip = Arrays.copyOfRange(frame, VNET, frame.length);
        if (f.getByte(VirtioNetHdr.GSO_TYPE) != VirtioNetHdr.GSO_UDP_L4) {
            return List.of(ip);
        }
        final int size = f.getShort(VirtioNetHdr.GSO_SIZE, LE) & 0xFFFF;
        final int partial = f.getShort(VNET + 26, NET) & 0xFFFF;
        final int groupUdpLength = f.getShort(VNET + 24, NET) & 0xFFFF;
        final List<byte[]> out = new ArrayList<>();
        for (int at = 28; at < ip.length; at += size) {
            final int payload = Math.min(size, ip.length - at);
            final UnsafeBuffer seg = new UnsafeBuffer(ByteBuffer.allocate(28 + payload));
            seg.putBytes(0, ip, 0, 28);
            seg.putBytes(28, ip, at, payload);
            seg.putShort(2, (short) (28 + payload), NET);
            seg.putShort(24, (short) (8 + payload), NET);
            final int adjusted = Checksums.update16(~partial & 0xFFFF, groupUdpLength, 8 + payload); // swap the length in the sum
            final long sum = Checksums.sum(seg, 20, 8 + payload, ~adjusted & 0xFFFF) - partial; // the field itself is not summed
            seg.putShort(26, (short) Checksums.finish(sum), NET);
            final int valid = Checksums.transport(seg, 0, IpProtocol.UDP, 20, 8 + payload);
            assertEquals(valid, seg.getShort(26, NET) & 0xFFFF, "segment checksum as a receiver computes it");
            out.add(seg.byteArray());
        }
        return out;
    }
}
