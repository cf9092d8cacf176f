package dev.ferry.dataplane.counters;

import dev.ferry.dataplane.packet.DropReason;

/**
 * The kinds of counter each worker keeps. The type id is stable: it is written into the
 * counters file as the counter's type, read by {@code ferry stat} and {@code /metrics}, and
 * never renumbered. Drop reasons get type {@code DROP_BASE + DropReason.code()}.
 */
public enum CounterType {
    RX_PACKETS(1, "packets received"),
    TX_PACKETS(2, "packets sent"),
    PASSED(3, "packets passed unchanged (not service traffic)"),
    NEW_FLOWS(4, "new flows translated"),
    TRANSLATED(5, "packets of tracked flows translated"),
    REJECTED(6, "packets answered with a reject"),
    ICMP_ERRORS_TRANSLATED(7, "ICMP errors about tracked flows translated"),
    LOCAL(8, "packets for the node itself (health check node ports)"),
    CONNTRACK_GC_RECLAIMED(9, "conntrack entries reclaimed by GC"),
    SNAT_TUPLES_REUSED(10, "SNAT tuples taken over from finished flows (none free in the probe window)"),
    UDP_COALESCED(11, "UDP datagrams written inside a super-packet (coalesced)");

    /** Counters of type DROP_BASE + reason code count drops by reason. */
    public static final int DROP_BASE = 1000;

    private final int typeId;
    private final String description;

    CounterType(final int typeId, final String description) {
        this.typeId = typeId;
        this.description = description;
    }

    public int typeId() {
        return typeId;
    }

    public String description() {
        return description;
    }

    public static int dropTypeId(final DropReason reason) {
        return DROP_BASE + reason.code();
    }
}
