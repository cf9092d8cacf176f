package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Immutable snapshot of every service port this node serves, compiled once on the control side
 * and read by any number of worker threads without locks. Swap a new one in with one reference
 * write.
 *
 * <p>Frontends (ClusterIPs, externalIPs, LoadBalancer IPs, NodePorts on each NodePort address,
 * and healthCheckNodePorts) are held in an open-addressing hash table over primitive arrays,
 * linear probing, load factor at most 1/2, so that a lookup costs the same with ten services or
 * a hundred thousand:
 * <pre>
 *   key   (long):  | address (32) | protocol (16) | port (16) |    0 = empty slot (protocol is never 0)
 *   value (int):   | service port id (29)        | Frontend ordinal (3) |
 * </pre>
 * ClusterIPs alone (any port) sit in a second open-addressing int set, for "REJECT on an unknown
 * port of a ClusterIP".
 */
public final class ServiceTable {
    private static final int FRONTEND_BITS = 3;
    private static final int FRONTEND_MASK = (1 << FRONTEND_BITS) - 1;
    /** Frontend lookups return this when no service port claims the address/protocol/port. */
    public static final int NO_ENTRY = -1;

    private final NodeSpec node;
    private final List<ServicePort> ports;
    private final ServicePort[] byId;

    private final long[] frontendKeys;
    private final int[] frontendValues;
    private final int frontendMask;

    private final AddressSet clusterIps;
    /** externalIPs and LoadBalancer IPs: routed into ferry0 like ClusterIPs. */
    private final AddressSet externalAddresses;

    private final int[] serviceCidrBases;
    private final int[] serviceCidrMasks;
    private final int[] clusterCidrBases;
    private final int[] clusterCidrMasks;
    private final int[] nodeIps;
    private final boolean masqueradeAll;

    private ServiceTable(final NodeSpec node, final List<ServicePortSpec> specs, final ServiceTable previous) {
        this.node = node;
        this.byId = new ServicePort[specs.size()];
        final ServicePortReuse reuse = previous != null && previous.node.equals(node) ? new ServicePortReuse(previous.byId, specs) : null;
        for (int i = 0; i < byId.length; i++) {
            final ServicePortSpec spec = specs.get(i);
            final ServicePort before = reuse == null ? null : reuse.compiledFrom(spec, i);
            byId[i] = before == null ? new ServicePort(i, spec, node) : before.withId(i);
        }
        this.ports = Collections.unmodifiableList(java.util.Arrays.asList(byId.clone()));

        final List<Integer> nodePortIps = node.nodePortIps();
        int claims = 0;
        for (final ServicePortSpec s : specs) {
            claims += s.clusterIps().size() + s.externalIps().size() + s.loadBalancerIps().size();
            if (s.nodePort() != 0) {
                claims += nodePortIps.size();
            }
            if (s.healthCheckNodePort() != 0) {
                claims += nodePortIps.size();
            }
        }
        final int capacity = tableCapacity(claims);
        this.frontendKeys = new long[capacity];
        this.frontendValues = new int[capacity];
        this.frontendMask = capacity - 1;

        for (final ServicePort sp : byId) {
            final ServicePortSpec s = sp.spec();
            final int proto = s.protocol().number();
            for (final int ip : s.clusterIps()) {
                claim(sp, key(ip, proto, s.port()), Frontend.CLUSTER_IP);
            }
            // LoadBalancer before externalIP: a port listing one address as both keeps the
            // stricter frontend (source ranges apply to LoadBalancer IPs only).
            for (final int ip : s.loadBalancerIps()) {
                claim(sp, key(ip, proto, s.port()), Frontend.LOAD_BALANCER_IP);
            }
            for (final int ip : s.externalIps()) {
                claim(sp, key(ip, proto, s.port()), Frontend.EXTERNAL_IP);
            }
            if (s.nodePort() != 0) {
                for (final int ip : nodePortIps) {
                    claim(sp, key(ip, proto, s.nodePort()), Frontend.NODE_PORT);
                }
            }
            if (s.healthCheckNodePort() != 0) {
                // kube-proxy's service health server listens on the NodePort addresses.
                for (final int ip : nodePortIps) {
                    claim(sp, key(ip, Protocol.TCP.number(), s.healthCheckNodePort()), Frontend.HEALTH_CHECK_NODE_PORT);
                }
            }
        }

        final List<Integer> clusterIpList = new ArrayList<>(specs.size());
        final List<Integer> externalList = new ArrayList<>();
        for (final ServicePortSpec s : specs) {
            clusterIpList.addAll(s.clusterIps());
            externalList.addAll(s.externalIps());
            externalList.addAll(s.loadBalancerIps());
        }
        this.clusterIps = new AddressSet(clusterIpList);
        this.externalAddresses = new AddressSet(externalList);

        this.serviceCidrBases = bases(node.serviceCidrs());
        this.serviceCidrMasks = masks(node.serviceCidrs());
        this.clusterCidrBases = bases(node.clusterCidrs());
        this.clusterCidrMasks = masks(node.clusterCidrs());
        this.nodeIps = node.nodeIps().stream().mapToInt(Integer::intValue).toArray();
        this.masqueradeAll = node.masqueradeAll();
    }

    /**
     * Compiles a snapshot. The specs are trusted (the control side validated them); the one thing
     * checked here is that no two service ports claim the same address, protocol and port, which
     * would make routing ambiguous: that throws {@link IllegalArgumentException} naming both.
     * Service ports get ids 0..n-1 in list order.
     */
    public static ServiceTable compile(final NodeSpec node, final List<ServicePortSpec> ports) {
        return new ServiceTable(node, ports, null);
    }

    /**
     * As {@link #compile(NodeSpec, List)}, reusing what {@code previous} (the table serving now,
     * or null) derived from each spec it shares with {@code ports} by identity: the endpoint
     * sets, source ranges and affinity key of a service port whose spec object did not change
     * are not computed again. A sync at 10,000 services that changes one then costs the frontend
     * hash table and the address sets, not 10,000 service ports. The result is the same table
     * either way. Nothing is reused when the node differs (the derived state depends on it).
     */
    public static ServiceTable compile(final NodeSpec node, final List<ServicePortSpec> ports, final ServiceTable previous) {
        return new ServiceTable(node, ports, previous);
    }

    /** A snapshot with no service: every packet passes except those to the service CIDRs. */
    public static ServiceTable empty(final NodeSpec node) {
        return new ServiceTable(node, List.of(), null);
    }

    /**
     * Finds the previous table's service port compiled from a given spec instance. The two spec
     * lists are lined up by identity from both ends, as the control side's lists of unchanged
     * objects are the same instances in the same order: before and after the span where they
     * differ, the port at the matching position is the one; inside it, the previous span's ports
     * are looked up by spec identity (a one-service change: a span of one or two).
     */
    private static final class ServicePortReuse {
        private final ServicePort[] previous;
        private final int start;
        private final int oldEnd;
        private final int newEnd;
        private java.util.IdentityHashMap<ServicePortSpec, ServicePort> inSpan;

        ServicePortReuse(final ServicePort[] previous, final List<ServicePortSpec> specs) {
            this.previous = previous;
            int from = 0;
            final int common = Math.min(previous.length, specs.size());
            while (from < common && previous[from].spec() == specs.get(from)) {
                from++;
            }
            int oldTo = previous.length;
            int newTo = specs.size();
            while (oldTo > from && newTo > from && previous[oldTo - 1].spec() == specs.get(newTo - 1)) {
                oldTo--;
                newTo--;
            }
            this.start = from;
            this.oldEnd = oldTo;
            this.newEnd = newTo;
        }

        /** The previous port compiled from {@code spec}, which is the new list's element {@code position}; null when none was. */
        ServicePort compiledFrom(final ServicePortSpec spec, final int position) {
            if (position < start) {
                return previous[position];
            }
            if (position >= newEnd) {
                return previous[position - newEnd + oldEnd];
            }
            if (inSpan == null) {
                inSpan = new java.util.IdentityHashMap<>();
                for (int i = start; i < oldEnd; i++) {
                    inSpan.put(previous[i].spec(), previous[i]);
                }
            }
            return inSpan.get(spec);
        }
    }

    public NodeSpec node() {
        return node;
    }

    /** All service ports, index = id. */
    public List<ServicePort> ports() {
        return ports;
    }

    public ServicePort byId(final int id) {
        return byId[id];
    }

    public int size() {
        return byId.length;
    }

    /**
     * The frontend entry for (address, IP protocol number, port), or {@link #NO_ENTRY}; decode it
     * with {@link #entryPortId} and {@link #entryFrontend}. Allocation-free.
     */
    public int lookup(final int address, final int protocolNumber, final int port) {
        final long key = key(address, protocolNumber, port);
        int i = mix(key) & frontendMask;
        while (true) {
            final long k = frontendKeys[i];
            if (k == key) {
                return frontendValues[i];
            }
            if (k == 0) {
                return NO_ENTRY;
            }
            i = (i + 1) & frontendMask;
        }
    }

    /** The service port that (address, protocol, port) reaches, or null. For trace and tools. */
    public ServicePort find(final int address, final int protocolNumber, final int port) {
        final int entry = lookup(address, protocolNumber, port);
        return entry == NO_ENTRY ? null : byId[entryPortId(entry)];
    }

    public static int entryPortId(final int entry) {
        return entry >>> FRONTEND_BITS;
    }

    public static Frontend entryFrontend(final int entry) {
        return Frontend.VALUES[entry & FRONTEND_MASK];
    }

    /** True when some service port has this address as a ClusterIP (any protocol, any port). */
    public boolean isClusterIp(final int address) {
        return clusterIps.contains(address);
    }

    /**
     * True for every address the node routes into ferry0 for services: the service CIDRs,
     * ClusterIPs, externalIPs and LoadBalancer IPs. Traffic to one of them that no service
     * port claims must not be passed back: the kernel would route it into ferry0 again.
     */
    public boolean isServiceAddress(final int address) {
        return inServiceCidrs(address) || clusterIps.contains(address) || externalAddresses.contains(address);
    }

    /** True when the address is inside one of the node's service CIDRs. */
    public boolean inServiceCidrs(final int address) {
        return inAny(address, serviceCidrBases, serviceCidrMasks);
    }

    /** True when the address is inside the cluster (pod) CIDRs; always false when none are configured. */
    public boolean inClusterCidrs(final int address) {
        return inAny(address, clusterCidrBases, clusterCidrMasks);
    }

    /** True when pod traffic can be told apart (clusterCIDRs configured). */
    public boolean detectsPods() {
        return clusterCidrBases.length > 0;
    }

    public boolean isNodeIp(final int address) {
        for (final int ip : nodeIps) {
            if (ip == address) {
                return true;
            }
        }
        return false;
    }

    public boolean masqueradeAll() {
        return masqueradeAll;
    }

    // ---- compile-time helpers ----

    private void claim(final ServicePort sp, final long key, final Frontend frontend) {
        final int value = (sp.id() << FRONTEND_BITS) | frontend.ordinal();
        int i = mix(key) & frontendMask;
        while (true) {
            final long k = frontendKeys[i];
            if (k == 0) {
                frontendKeys[i] = key;
                frontendValues[i] = value;
                return;
            }
            if (k == key) {
                final int existing = frontendValues[i];
                final ServicePort other = byId[entryPortId(existing)];
                if (other == sp || (frontend == Frontend.HEALTH_CHECK_NODE_PORT
                    && entryFrontend(existing) == Frontend.HEALTH_CHECK_NODE_PORT && sameService(other, sp))) {
                    return; // same port listing an address twice, or the ports of one service sharing its health check
                }
                throw new IllegalArgumentException(describe(key) + " is claimed twice: as "
                    + entryFrontend(existing).label() + " of service port " + other.displayName() + " and as "
                    + frontend.label() + " of service port " + sp.displayName()
                    + "; give one of them another address or port");
            }
            i = (i + 1) & frontendMask;
        }
    }

    private static boolean sameService(final ServicePort a, final ServicePort b) {
        return a.spec().namespace().equals(b.spec().namespace()) && a.spec().name().equals(b.spec().name());
    }

    private static String describe(final long key) {
        final int proto = (int) (key >>> 16) & 0xFFFF;
        final Protocol p = Protocol.fromNumber(proto);
        return Ipv4.format((int) (key >>> 32), (int) key & 0xFFFF) + "/" + (p == null ? Integer.toString(proto) : p.name());
    }

    private static int tableCapacity(final int entries) {
        final long wanted = Math.max(16L, (long) entries * 2);
        if (wanted > (1 << 30)) {
            throw new IllegalArgumentException("too many service frontends: " + entries);
        }
        return Integer.highestOneBit((int) wanted - 1) << 1;
    }

    private static boolean inAny(final int address, final int[] bases, final int[] masks) {
        for (int i = 0; i < bases.length; i++) {
            if ((address & masks[i]) == bases[i]) {
                return true;
            }
        }
        return false;
    }

    private static int[] bases(final List<Ipv4Cidr> cidrs) {
        return cidrs.stream().mapToInt(Ipv4Cidr::base).toArray();
    }

    private static int[] masks(final List<Ipv4Cidr> cidrs) {
        return cidrs.stream().mapToInt(c -> Ipv4Cidr.mask(c.prefixLen())).toArray();
    }

    static long key(final int address, final int protocolNumber, final int port) {
        return ((long) address << 32) | ((long) (protocolNumber & 0xFFFF) << 16) | (port & 0xFFFF);
    }

    /** Murmur3's 64-bit finaliser: spreads sequential addresses and ports over the table. */
    static int mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return (int) k;
    }

    @Override
    public String toString() {
        return "ServiceTable{" + byId.length + " service ports, node " + node.nodeName() + '}';
    }

    /** All frontends of one service port as text (e.g. "NodePort 198.18.0.11:30080/TCP"), for {@code ferry services}. Allocates. */
    public List<String> describeFrontends(final ServicePort sp) {
        final ServicePortSpec s = sp.spec();
        final int proto = s.protocol().number();
        final List<String> out = new ArrayList<>();
        for (final int ip : s.clusterIps()) {
            out.add(Frontend.CLUSTER_IP.label() + " " + describe(key(ip, proto, s.port())));
        }
        for (final int ip : s.loadBalancerIps()) {
            out.add(Frontend.LOAD_BALANCER_IP.label() + " " + describe(key(ip, proto, s.port())));
        }
        for (final int ip : s.externalIps()) {
            out.add(Frontend.EXTERNAL_IP.label() + " " + describe(key(ip, proto, s.port())));
        }
        for (final int ip : node.nodePortIps()) {
            if (s.nodePort() != 0) {
                out.add(Frontend.NODE_PORT.label() + " " + describe(key(ip, proto, s.nodePort())));
            }
            if (s.healthCheckNodePort() != 0) {
                out.add(Frontend.HEALTH_CHECK_NODE_PORT.label() + " "
                    + describe(key(ip, Protocol.TCP.number(), s.healthCheckNodePort())));
            }
        }
        return out;
    }
}
