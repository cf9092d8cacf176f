package dev.ferry.nativeio.netlink;

import java.net.InetAddress;
import java.util.Objects;

/**
 * A policy routing rule, e.g. {@code pref 30 to 198.18.0.10 ipproto tcp dport 30000-32767 lookup 200}
 * or {@code pref 20 from 10.244.1.0/24 ipproto tcp sport 8080 lookup 200}. Start with
 * {@link #lookup(int)} (or {@link #jumpTo(int)}: {@code pref 21 from 10.244.1.0/24 to 10.244.0.0/16 goto 100})
 * and add selectors. Unset selectors: null addresses, empty iif, ipProto 0,
 * port ranges 0-0. (The kernel refuses a port range that ends at 65535: {@code
 * fib_rule_port_range_valid} in include/net/fib_rules.h.)
 */
public record Rule(boolean ipv6, int priority, String iif, InetAddress from, int fromLength, InetAddress to,
                   int toLength, int ipProto, int sportStart, int sportEnd, int dportStart, int dportEnd, int table,
                   int gotoPriority) {
    /** The highest port a rule's port range can end at. */
    public static final int MAX_RANGE_PORT = 65534;

    /** A rule that looks up {@code table}, matching everything until selectors are added. */
    public static Rule lookup(int table) {
        return new Rule(false, -1, null, null, 0, null, 0, 0, 0, 0, 0, 0, table, 0);
    }

    /**
     * A rule that, when its selectors match, jumps to the rule at {@code priority} (FR_ACT_GOTO:
     * the rules in between are skipped, so a packet they cannot concern is spared walking them).
     * A jump whose target does not exist is passed over by the kernel.
     */
    public static Rule jumpTo(int priority) {
        return new Rule(false, -1, null, null, 0, null, 0, 0, 0, 0, 0, 0, 0, priority);
    }

    /** Whether this rule jumps ({@link #jumpTo}) rather than looks up a table. */
    public boolean isJump() {
        return gotoPriority > 0;
    }

    public Rule ipv6(boolean v6) {
        return new Rule(v6, priority, iif, from, fromLength, to, toLength, ipProto, sportStart, sportEnd, dportStart, dportEnd, table, gotoPriority);
    }

    public Rule priority(int pref) {
        return new Rule(ipv6, pref, iif, from, fromLength, to, toLength, ipProto, sportStart, sportEnd, dportStart, dportEnd, table, gotoPriority);
    }

    public Rule iif(String name) {
        return new Rule(ipv6, priority, name, from, fromLength, to, toLength, ipProto, sportStart, sportEnd, dportStart, dportEnd, table, gotoPriority);
    }

    public Rule from(InetAddress a, int length) {
        return new Rule(ipv6, priority, iif, a, length, to, toLength, ipProto, sportStart, sportEnd, dportStart, dportEnd, table, gotoPriority);
    }

    public Rule to(InetAddress a, int length) {
        return new Rule(ipv6, priority, iif, from, fromLength, a, length, ipProto, sportStart, sportEnd, dportStart, dportEnd, table, gotoPriority);
    }

    public Rule ipProto(int proto) {
        return new Rule(ipv6, priority, iif, from, fromLength, to, toLength, proto, sportStart, sportEnd, dportStart, dportEnd, table, gotoPriority);
    }

    /** Matches source ports {@code start}-{@code end} (inclusive; FRA_SPORT_RANGE, Linux 4.17+). */
    public Rule sport(int start, int end) {
        return new Rule(ipv6, priority, iif, from, fromLength, to, toLength, ipProto, start, end, dportStart, dportEnd, table, gotoPriority);
    }

    /** Matches destination ports {@code start}-{@code end} (inclusive; FRA_DPORT_RANGE, Linux 4.17+). */
    public Rule dport(int start, int end) {
        return new Rule(ipv6, priority, iif, from, fromLength, to, toLength, ipProto, sportStart, sportEnd, start, end, table, gotoPriority);
    }

    /** Whether the selectors, table and jump target equal {@code other}'s. */
    public boolean matches(Rule other) {
        return ipv6 == other.ipv6 && priority == other.priority && Objects.equals(iif, other.iif)
                && Objects.equals(from, other.from) && fromLength == other.fromLength
                && Objects.equals(to, other.to) && toLength == other.toLength && ipProto == other.ipProto
                && sportStart == other.sportStart && sportEnd == other.sportEnd
                && dportStart == other.dportStart && dportEnd == other.dportEnd && table == other.table
                && gotoPriority == other.gotoPriority;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (priority >= 0) {
            sb.append("pref ").append(priority).append(' ');
        }
        if (iif != null) {
            sb.append("iif ").append(iif).append(' ');
        }
        if (from != null) {
            sb.append("from ").append(from.getHostAddress()).append('/').append(fromLength).append(' ');
        }
        if (to != null) {
            sb.append("to ").append(to.getHostAddress()).append('/').append(toLength).append(' ');
        }
        if (ipProto != 0) {
            sb.append("ipproto ").append(ipProto).append(' ');
        }
        appendRange(sb, "sport", sportStart, sportEnd);
        appendRange(sb, "dport", dportStart, dportEnd);
        return isJump() ? sb.append("goto ").append(gotoPriority).toString() : sb.append("lookup ").append(table).toString();
    }

    private static void appendRange(StringBuilder sb, String name, int start, int end) {
        if (start != 0 || end != 0) {
            sb.append(name).append(' ').append(start);
            if (end != start) {
                sb.append('-').append(end);
            }
            sb.append(' ');
        }
    }
}
