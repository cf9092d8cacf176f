package dev.ferry.control.dns;

import dev.ferry.dataplane.service.Protocol;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The cluster domain's records, compiled from {@link ServiceNames} for one domain: the records
 * of the Kubernetes DNS specification (github.com/kubernetes/dns, docs/specification.md,
 * schema 1.0.1) and what a query for a name gets. Immutable: the server swaps a new zone in
 * with one volatile write.
 *
 * <pre>
 *   &lt;svc&gt;.&lt;ns&gt;.svc.&lt;zone&gt;               A      each ClusterIP; headless: each ready endpoint
 *   &lt;host&gt;.&lt;svc&gt;.&lt;ns&gt;.svc.&lt;zone&gt;        A      headless: the endpoint (host = its hostname, else a-b-c-d)
 *   _&lt;port&gt;._&lt;proto&gt;.&lt;svc&gt;.&lt;ns&gt;.svc.&lt;zone&gt;  SRV 0 w port target   each named port (headless: per ready endpoint)
 *   &lt;svc&gt;.&lt;ns&gt;.svc.&lt;zone&gt;               CNAME  spec.externalName
 *   d.c.b.a.in-addr.arpa                PTR    the service (ClusterIP), the endpoint's name (headless)
 *   dns-version.&lt;zone&gt;                  TXT    "1.0.1"
 *   &lt;zone&gt;                              SOA    ns.dns.&lt;zone&gt; hostmaster.&lt;zone&gt;
 * </pre>
 *
 * <p>A name in the domain with no record of the asked type is NODATA (NOERROR, no answer) when
 * the name exists — it owns records, or a name below it does (an "empty non-terminal" such as
 * {@code default.svc.cluster.local}, RFC 8020) — and NXDOMAIN otherwise; both carry the SOA in the
 * authority section, whose minimum (the TTL) bounds negative caching (RFC 2308). A headless
 * service without a ready endpoint has no records and so is NXDOMAIN, as the specification asks.
 * A CNAME answers every type but CNAME itself with the CNAME, followed by the target's records
 * when the target is in this zone. AAAA is always NODATA for now: the dataplane is IPv4 only.
 */
public final class Zone {
    private static final Logger LOG = Logger.getLogger(Zone.class.getName());
    /** The schema version the records follow (dns-version TXT). */
    public static final String SCHEMA_VERSION = "1.0.1";
    /** Longest CNAME chain followed inside the zone. */
    private static final int MAX_CNAME_HOPS = 8;
    private static final String REVERSE_SUFFIX = ".in-addr.arpa";

    /** What a lookup found. */
    public enum Status {
        /** NOERROR: the answers (perhaps none: NODATA). */
        NOERROR,
        /** The name does not exist in the zone. */
        NXDOMAIN,
        /** Not this zone's name: forward it (or refuse). */
        NOT_OURS
    }

    /**
     * A lookup's result.
     *
     * @param status      NOERROR, NXDOMAIN, or NOT_OURS
     * @param answers     the answer section
     * @param authority   the authority section (the SOA of a negative answer)
     * @param additionals the additional section (the A records of SRV targets)
     * @param cnameTarget the last CNAME's target when it left the zone and the asked type is not CNAME: a
     *                    recursive server goes on resolving it; null otherwise
     */
    public record Lookup(Status status, List<Rr> answers, List<Rr> authority, List<Rr> additionals, String cnameTarget) {
        static final Lookup NOT_OURS = new Lookup(Status.NOT_OURS, List.of(), List.of(), List.of(), null);
    }

    private final String domain;
    private final long ttlSeconds;
    private final Rr soa;
    /** Records by owner name (cluster domain and in-addr.arpa alike). */
    private final Map<String, List<Rr>> records;
    /** Every name of the domain that exists: owners and their ancestors up to the domain. */
    private final Set<String> names;

    private Zone(final String domain, final long ttlSeconds, final Rr soa, final Map<String, List<Rr>> records, final Set<String> names) {
        this.domain = domain;
        this.ttlSeconds = ttlSeconds;
        this.soa = soa;
        this.records = records;
        this.names = names;
    }

    /**
     * The zone of {@code names} under {@code domain}.
     *
     * @param domain     the cluster domain, e.g. "cluster.local" (lower case, no trailing dot)
     * @param names      the services
     * @param serial     the SOA serial: one more for every zone the server compiles
     * @param ttlSeconds the TTL of every record, and the SOA minimum
     */
    public static Zone compile(final String domain, final ServiceNames names, final long serial, final long ttlSeconds) {
        final Builder b = new Builder(domain);
        final Rr soa = Rr.soa(domain, "ns.dns." + domain, "hostmaster." + domain, serial, ttlSeconds);
        b.add(soa);
        b.add(Rr.txt("dns-version." + domain, SCHEMA_VERSION));
        for (final ServiceNames.Entry entry : names.entries()) {
            try {
                b.addService(entry);
            } catch (final IllegalArgumentException e) {
                // a name DNS cannot carry (an ExternalName with a label over 63 bytes): the service goes unnamed, the rest serve
                LOG.warning("DNS: no records for Service " + entry.namespace() + "/" + entry.name() + ": " + e.getMessage());
            }
        }
        return new Zone(domain, ttlSeconds, soa, b.records, b.names);
    }

    public String domain() {
        return domain;
    }

    public long ttlSeconds() {
        return ttlSeconds;
    }

    /** Owner names with records (for tests and logs). */
    public int ownerCount() {
        return records.size();
    }

    /** True when {@code name} (normalized) is in the cluster domain. */
    public boolean inDomain(final String name) {
        return name.equals(domain) || name.endsWith("." + domain);
    }

    /**
     * Answers {@code type} for {@code name}, which may be in any case and end with a dot.
     * Reverse names (in-addr.arpa) are answered when they are a ClusterIP's or a headless
     * endpoint's and NOT_OURS otherwise: the rest of the reverse tree is the upstream's, as
     * CoreDNS's kubernetes plugin falls through for in-addr.arpa.
     */
    public Lookup lookup(final String name, final int type) {
        final String qname = Rr.normalize(name);
        if (!inDomain(qname)) {
            final List<Rr> reverse = qname.endsWith(REVERSE_SUFFIX) ? records.get(qname) : null;
            if (reverse == null) {
                return Lookup.NOT_OURS;
            }
            return new Lookup(Status.NOERROR, ofType(reverse, type), List.of(), List.of(), null);
        }
        final List<Rr> answers = new ArrayList<>();
        String current = qname;
        for (int hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
            final List<Rr> owned = records.get(current);
            if (owned == null) {
                if (hop > 0) {
                    return new Lookup(Status.NOERROR, answers, List.of(soa), List.of(), null); // a CNAME to a missing zone name
                }
                final Status status = names.contains(current) ? Status.NOERROR : Status.NXDOMAIN;
                return new Lookup(status, List.of(), List.of(soa), List.of(), null);
            }
            final Rr cname = owned.getFirst().type() == Rr.CNAME ? owned.getFirst() : null;
            if (cname == null || type == Rr.CNAME || type == Rr.ANY) {
                answers.addAll(ofType(owned, type));
                if (answers.isEmpty()) {
                    return new Lookup(Status.NOERROR, List.of(), List.of(soa), List.of(), null);
                }
                return new Lookup(Status.NOERROR, answers, List.of(), additionals(answers), null);
            }
            answers.add(cname);
            final String target = Rr.normalize(cnameTarget(cname));
            if (!inDomain(target)) {
                return new Lookup(Status.NOERROR, answers, List.of(), List.of(), target);
            }
            current = target;
        }
        return new Lookup(Status.NOERROR, answers, List.of(), List.of(), null); // a loop: what was found so far
    }

    private static List<Rr> ofType(final List<Rr> owned, final int type) {
        if (type == Rr.ANY) {
            return owned;
        }
        final List<Rr> out = new ArrayList<>(owned.size());
        for (final Rr rr : owned) {
            if (rr.type() == type) {
                out.add(rr);
            }
        }
        return out;
    }

    /** The zone's A records of the SRV targets among {@code answers}: a client connecting needs no second query. */
    private List<Rr> additionals(final List<Rr> answers) {
        List<Rr> out = List.of();
        final Set<String> seen = new HashSet<>();
        for (final Rr rr : answers) {
            if (rr.type() != Rr.SRV) {
                continue;
            }
            final String target = srvTarget(rr);
            if (!seen.add(target)) {
                continue;
            }
            final List<Rr> owned = records.get(target);
            if (owned != null) {
                if (out.isEmpty()) {
                    out = new ArrayList<>();
                }
                out.addAll(ofType(owned, Rr.A));
            }
        }
        return out;
    }

    private static String cnameTarget(final Rr cname) {
        return readName(cname.rdata(), 0);
    }

    private static String srvTarget(final Rr srv) {
        return readName(srv.rdata(), 6);
    }

    /** An uncompressed name in RDATA the zone wrote itself. */
    private static String readName(final byte[] rdata, final int offset) {
        final StringBuilder out = new StringBuilder();
        int i = offset;
        while (rdata[i] != 0) {
            final int length = rdata[i];
            if (!out.isEmpty()) {
                out.append('.');
            }
            out.append(new String(rdata, i + 1, length, java.nio.charset.StandardCharsets.US_ASCII));
            i += length + 1;
        }
        return out.toString();
    }

    /** Collects records by owner and the names that exist. */
    private static final class Builder {
        private final String domain;
        private final Map<String, List<Rr>> records = new HashMap<>();
        private final Set<String> names = new HashSet<>();

        Builder(final String domain) {
            this.domain = domain;
        }

        void add(final Rr rr) {
            Rr.wireName(rr.name()); // refuses a name DNS cannot carry before anything of the service is added
            records.computeIfAbsent(rr.name(), k -> new ArrayList<>()).add(rr);
            if (rr.name().endsWith(REVERSE_SUFFIX)) {
                return;
            }
            for (String name = rr.name(); name.length() >= domain.length(); name = parent(name)) {
                if (!names.add(name) || name.equals(domain)) {
                    break;
                }
            }
        }

        void addService(final ServiceNames.Entry entry) {
            final String service = entry.name() + "." + entry.namespace() + ".svc." + domain;
            final List<Rr> pending = new ArrayList<>();
            switch (entry.kind()) {
                case CLUSTER_IP -> {
                    for (final int ip : entry.clusterIps()) {
                        pending.add(Rr.a(service, ip));
                        pending.add(Rr.ptr(Rr.reverseName(ip), service));
                    }
                    for (final ServiceNames.Port port : entry.ports()) {
                        if (!port.name().isEmpty()) {
                            pending.add(Rr.srv(srvName(port, service), 0, 100, port.port(), service));
                        }
                    }
                }
                case HEADLESS -> {
                    final Map<String, Integer> srvCounts = new HashMap<>();
                    for (final ServiceNames.Endpoint endpoint : entry.endpoints()) {
                        for (final ServiceNames.Port port : endpoint.ports()) {
                            if (!port.name().isEmpty()) {
                                srvCounts.merge(srvName(port, service), 1, Integer::sum);
                            }
                        }
                    }
                    for (final ServiceNames.Endpoint endpoint : entry.endpoints()) {
                        final String host = (endpoint.hostname() != null ? endpoint.hostname() : Rr.dashed(endpoint.address()))
                            + "." + service;
                        pending.add(Rr.a(service, endpoint.address()));
                        pending.add(Rr.a(host, endpoint.address()));
                        pending.add(Rr.ptr(Rr.reverseName(endpoint.address()), host));
                        for (final ServiceNames.Port port : endpoint.ports()) {
                            if (!port.name().isEmpty()) {
                                final String owner = srvName(port, service);
                                // RFC 2782: equal priority, the weights share 100 between the targets
                                pending.add(Rr.srv(owner, 0, Math.max(1, 100 / srvCounts.get(owner)), port.port(), host));
                            }
                        }
                    }
                }
                case EXTERNAL_NAME -> pending.add(Rr.cname(service, entry.externalName()));
            }
            for (final Rr rr : pending) {
                Rr.wireName(rr.name());
            }
            pending.forEach(this::add);
        }

        private static String srvName(final ServiceNames.Port port, final String service) {
            return "_" + port.name() + "._" + protocolLabel(port.protocol()) + "." + service;
        }

        private static String protocolLabel(final Protocol protocol) {
            return protocol.name().toLowerCase(Locale.ROOT);
        }

        private static String parent(final String name) {
            final int dot = name.indexOf('.');
            return dot < 0 ? "" : name.substring(dot + 1);
        }
    }
}
