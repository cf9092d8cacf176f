package dev.ferry.dataplane.packet;

/**
 * Why the dataplane dropped a packet. Each reason is a stable code: it names a counter in
 * the counters file ({@code ferry stat}) and a label in {@code /metrics}, so reasons are only
 * ever appended, never renumbered.
 */
public enum DropReason {
    /** Fewer bytes than an IPv4 header. */
    TRUNCATED_IP_HEADER(1, "shorter than an IPv4 header"),
    /** The version nibble is neither 4 nor 6. */
    BAD_IP_VERSION(2, "IP version is not 4 or 6"),
    /** IHL below 5 words, or the header (with options) runs past the captured bytes. */
    BAD_IHL(3, "IPv4 header length (IHL) invalid or past the buffer"),
    /** Total length shorter than the header or longer than the captured bytes. */
    BAD_TOTAL_LENGTH(4, "IPv4 total length shorter than the header or past the buffer"),
    /** The TCP header is cut short, or its data offset is below 5 or past the packet. */
    BAD_TCP_HEADER(5, "TCP header truncated or data offset invalid"),
    /** The UDP header is cut short, or its length field disagrees with the packet. */
    BAD_UDP_LENGTH(6, "UDP header truncated or length field invalid"),
    /** The SCTP common header is cut short. */
    BAD_SCTP_HEADER(7, "SCTP common header truncated"),
    /** The ICMP header is cut short, or an ICMP error quotes a packet we cannot parse. */
    BAD_ICMP(8, "ICMP header truncated or quoted packet malformed"),
    /** A non-first fragment of a translated flow whose first fragment was not seen. */
    FRAGMENT_WITHOUT_FLOW(9, "non-first fragment of a service flow (fragments of NATed flows are not reassembled)"),
    /** A new flow could not get a conntrack entry because the table is full. */
    CONNTRACK_FULL(10, "conntrack table full: new flow refused"),
    /** No free SNAT tuple, nor one of a finished flow to take over, among those probed for a new flow. */
    SNAT_PORTS_EXHAUSTED(11, "no free SNAT port: every probed one held by a live flow (new flow refused)"),
    /** The service policy says drop (Local policy without local endpoints, source range miss, unallocated service IP). */
    SERVICE_POLICY(12, "dropped by service policy"),
    /** A ring between agents was full (no longer counted: queues run to completion, without rings; the code stays reserved). */
    RING_FULL(13, "ring buffer between agents full"),
    /** The transmit port refused the packet. */
    TX_FAILED(14, "transmit port refused the packet"),
    /** A packet larger than the dataplane's frame size. */
    OVERSIZED(15, "packet larger than the maximum frame size"),
    /**
     * The port's virtio_net_hdr is malformed: unknown flags or GSO type, or a partial checksum
     * whose start and offset lie outside the packet or not at its TCP/UDP checksum field.
     */
    BAD_VNET_HEADER(16, "virtio_net_hdr malformed (flags, GSO type or checksum offsets)"),
    /**
     * A GSO super-packet that cannot be what its virtio_net_hdr says: the GSO type does not
     * match the packet's IP version or protocol, no segment size, no partial checksum, or a fragment.
     */
    BAD_GSO_FRAME(17, "GSO super-packet malformed (GSO type does not match the packet)"),
    /**
     * Processing the packet threw: a bug, never expected. The packet is dropped, the queue goes
     * on with the next one, and the first such error of each queue is reported with its trace.
     */
    PROCESSING_ERROR(18, "processing the packet failed (a bug: see the agent's log)"),
    /** Fewer bytes than an IPv6 header (40). */
    TRUNCATED_IPV6_HEADER(19, "shorter than an IPv6 header"),
    /** The IPv6 payload length runs past the captured bytes, or is zero (a jumbogram) with a payload. */
    BAD_IPV6_PAYLOAD_LENGTH(20, "IPv6 payload length past the buffer, or a jumbogram"),
    /** An IPv6 extension header is cut short or its length runs past the payload. */
    BAD_IPV6_EXTENSION_HEADER(21, "IPv6 extension header truncated or past the payload");

    private final int code;
    private final String description;

    DropReason(final int code, final String description) {
        this.code = code;
        this.description = description;
    }

    /** Stable numeric code (never reused). */
    public int code() {
        return code;
    }

    public String description() {
        return description;
    }

    /** The metric label: the enum name in lower case. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
