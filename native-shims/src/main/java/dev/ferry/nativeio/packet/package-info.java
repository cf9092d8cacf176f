/**
 * The {@code packet} port type: an AF_PACKET socket with TPACKET_V2 RX and TX rings bound to
 * {@code ferry0p}, the dataplane's end of the {@code ferry0}/{@code ferry0p} veth pair.
 *
 * <h2>PACKET_VNET_HDR, not offloads off (decided by measurement)</h2>
 * Frames taken from a veth carry the sender's offloads: TCP/UDP checksums that are only the
 * pseudo-header sum (CHECKSUM_PARTIAL) and GSO super-frames up to 64 KiB. Passing them on
 * unchanged broke traffic in the prototype. The two fixes were measured with a reflector
 * carrying one TCP stream (client → node → ferry0 → reflector → node → server):
 * PACKET_VNET_HDR with every offload at its default moved 7.8-9.7 Gbit/s, turning TSO, GSO,
 * SG and TX checksumming off on {@code ferry0} (no vnet header) moved 1.9-2.2 Gbit/s, and
 * neither stalled the connection. So {@link dev.ferry.nativeio.packet.PacketSocketConfig#vnetHeader(boolean)}
 * is on by default: every frame on both rings starts with a {@code virtio_net_hdr}
 * ({@link dev.ferry.nativeio.virtio.VirtioNetHdr}) telling GSO type and size
 * and, with {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}, {@code csum_start}/{@code csum_offset}; a frame
 * sent back with the same header is segmented and checksummed by the kernel. Rewriting code
 * must therefore update a partial checksum as a pseudo-header sum (not complemented) and
 * leave completion to the kernel. RX slots hold an MTU-sized frame; a GSO super-frame is
 * longer, so the kernel queues it whole on the socket (PACKET_COPY_THRESH, TP_STATUS_COPY in its
 * slot) and it is read with one {@code recvfrom}. TX slots default to 68 KiB (64 of them) with
 * the vnet header on. The benchmark's offloads-off run uses legacy
 * SIOCETHTOOL ioctls; nothing in the product changes offloads.
 *
 * <h2>TPACKET_V2, not V3, for RX</h2>
 * A V3 RX ring hands user space a whole block, only when it is full or when its retire timer
 * (at least 1 ms) fires: at low load every packet waited for the timer (about 2 ms added per
 * request in the lab). V2 has a status word per frame: a frame is the user's as soon as the
 * kernel has written it, and poll(2) wakes on it.
 *
 * <p>Other choices: one socket carries both rings, mapped
 * with one {@code mmap}; the socket is created with protocol 0 and bound to
 * {@code ETH_P_ALL} on the interface only after the rings exist; PACKET_IGNORE_OUTGOING keeps
 * the RX ring to arriving frames; PACKET_QDISC_BYPASS sends straight to the veth driver.
 */
package dev.ferry.nativeio.packet;
