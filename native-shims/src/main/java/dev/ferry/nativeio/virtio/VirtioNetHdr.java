package dev.ferry.nativeio.virtio;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

/**
 * {@code struct virtio_net_hdr} (linux/virtio_net.h): the offload metadata in front of each
 * packet on a TUN queue opened with {@code IFF_VNET_HDR} and on an AF_PACKET socket with
 * {@code PACKET_VNET_HDR}. Fields are little-endian on the hosts Ferry runs on (x86-64,
 * aarch64: the kernel's {@code virtio16} in "legacy" native order).
 *
 * <pre>
 *  0        1          2         4          6            8             10
 *  | flags  | gso_type | hdr_len | gso_size | csum_start | csum_offset |
 *    NEEDS_CSUM: the L4 checksum field at csum_start + csum_offset holds the uncomplemented
 *                pseudo-header sum; whoever sends the packet on completes it over the data
 *    gso_type:   NONE, TCPV4, TCPV6, UDP_L4 (USO), UDP (UFO) [| ECN]: a super-packet that is
 *                cut into gso_size-byte segments after hdr_len bytes of headers
 * </pre>
 * csum_start counts from the start of the frame after this header: the IP header on TUN, the
 * Ethernet header on AF_PACKET.
 */
public final class VirtioNetHdr {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("flags"),
            JAVA_BYTE.withName("gso_type"),
            JAVA_SHORT.withName("hdr_len"),
            JAVA_SHORT.withName("gso_size"),
            JAVA_SHORT.withName("csum_start"),
            JAVA_SHORT.withName("csum_offset")).withName("virtio_net_hdr");
    public static final int FLAGS = off("flags");
    public static final int GSO_TYPE = off("gso_type");
    public static final int HDR_LEN = off("hdr_len");
    public static final int GSO_SIZE = off("gso_size");
    public static final int CSUM_START = off("csum_start");
    public static final int CSUM_OFFSET = off("csum_offset");
    public static final int SIZE = (int) LAYOUT.byteSize();

    public static final int F_NEEDS_CSUM = 1;
    public static final int F_DATA_VALID = 2;
    public static final int F_RSC_INFO = 4;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    public static final int GSO_ECN = 0x80;

    private VirtioNetHdr() {
    }

    private static int off(String field) {
        return (int) LAYOUT.byteOffset(PathElement.groupElement(field));
    }
}
