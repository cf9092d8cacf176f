package dev.ferry.control.dns;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The DNS server's counters, read by {@code /metrics} as {@code ferry_dns_queries_total{type}},
 * {@code ferry_dns_responses_total{rcode}} and the few below. Labels are a fixed set (an unknown
 * query type counts as "other", an rcode outside the list as "other") so that a client sending
 * junk cannot grow the metrics page. Incremented from the server's event loop and the
 * forwarder's threads; {@link LongAdder}s, so no increment waits for another.
 */
public final class DnsCounters {
    /** Query types with a label of their own, by type code. */
    private static final Map<Integer, String> TYPES = new LinkedHashMap<>();
    /** Response codes with a label of their own (RFC 1035 section 4.1.1, RFC 2136 for the rest). */
    private static final List<String> RCODES = List.of("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED");

    static {
        TYPES.put(Rr.A, "A");
        TYPES.put(Rr.NS, "NS");
        TYPES.put(Rr.CNAME, "CNAME");
        TYPES.put(Rr.SOA, "SOA");
        TYPES.put(Rr.PTR, "PTR");
        TYPES.put(Rr.TXT, "TXT");
        TYPES.put(Rr.AAAA, "AAAA");
        TYPES.put(Rr.SRV, "SRV");
        TYPES.put(Rr.ANY, "ANY");
    }

    private final Map<String, LongAdder> queries = new LinkedHashMap<>();
    private final Map<String, LongAdder> responses = new LinkedHashMap<>();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder forwarded = new LongAdder();
    private final LongAdder forwardFailures = new LongAdder();
    private final LongAdder truncated = new LongAdder();

    public DnsCounters() {
        TYPES.values().forEach(label -> queries.put(label, new LongAdder()));
        queries.put("other", new LongAdder());
        RCODES.forEach(label -> responses.put(label, new LongAdder()));
        responses.put("other", new LongAdder());
    }

    void query(final int type) {
        queries.get(TYPES.getOrDefault(type, "other")).increment();
    }

    void response(final int rcode) {
        responses.get(rcode >= 0 && rcode < RCODES.size() ? RCODES.get(rcode) : "other").increment();
    }

    /** An answer counted by {@link #response} whose write failed: counted as dropped instead. */
    void unsent(final int rcode) {
        responses.get(rcode >= 0 && rcode < RCODES.size() ? RCODES.get(rcode) : "other").decrement();
        dropped.increment();
    }

    /** A message that could not be parsed far enough to answer (shorter than a header, or a response sent to us). */
    void dropped() {
        dropped.increment();
    }

    void forwarded() {
        forwarded.increment();
    }

    /** A forwarded query the upstream did not answer in time, or whose answer did not make sense: SERVFAIL. */
    void forwardFailed() {
        forwardFailures.increment();
    }

    /** A UDP answer cut down to fit the client's size (TC set). */
    void truncated() {
        truncated.increment();
    }

    /** Queries by type label, in a fixed order. */
    public Map<String, Long> queriesByType() {
        return sums(queries);
    }

    /** Responses by rcode label, in a fixed order. */
    public Map<String, Long> responsesByRcode() {
        return sums(responses);
    }

    public long droppedTotal() {
        return dropped.sum();
    }

    public long forwardedTotal() {
        return forwarded.sum();
    }

    public long forwardFailuresTotal() {
        return forwardFailures.sum();
    }

    public long truncatedTotal() {
        return truncated.sum();
    }

    private static Map<String, Long> sums(final Map<String, LongAdder> adders) {
        final Map<String, Long> out = new LinkedHashMap<>();
        adders.forEach((label, adder) -> out.put(label, adder.sum()));
        return out;
    }
}
