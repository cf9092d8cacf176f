package dev.ferry.dataplane.nat;

/**
 * The flags the dataplane stores in a conntrack entry ({@code ConntrackTable.insert}'s
 * {@code flags}, opaque to the table): what was done to the flow beyond its DNAT, for the
 * packet path and for whoever lists the table.
 */
public final class FlowFlags {
    /** The flow's source was masqueraded (SNAT to the node or masquerade address). */
    public static final int MASQUERADED = 1;

    private FlowFlags() {
    }

    public static boolean masqueraded(final int flags) {
        return (flags & MASQUERADED) != 0;
    }
}
