package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The addresses the kernel treats as this node's own: the {@code local} routes of its local
 * routing table (every address on every interface, and any prefix routed as local), the set
 * kube-proxy's {@code fib saddr type local} tests. The router asks it whether a new flow comes
 * from the node itself, beyond the node config's {@code nodeIPs}, which stay local whatever this
 * holds (a node config may name an address the node has not got yet).
 *
 * <p>One writer (the control thread following the kernel) replaces the whole set; queue threads
 * read it on a flow's first packet. The set is immutable and published through a volatile
 * field: a read is one volatile load and a binary search, no allocation, no lock.
 */
public final class LocalAddresses {
    private static final int[] NONE = new int[0];

    private volatile Snapshot snapshot = new Snapshot(NONE, NONE, NONE);

    /**
     * @param hosts       the /32s, sorted as signed ints for {@link Arrays#binarySearch}
     * @param prefixBases the wider local prefixes (127.0.0.0/8, an AnyIP route), few
     * @param prefixMasks their masks, index for index
     */
    private record Snapshot(int[] hosts, int[] prefixBases, int[] prefixMasks) {
    }

    /** An empty set: only the node config's nodeIPs count as the node (offline trace, tests). */
    public LocalAddresses() {
    }

    /** A set holding {@code prefixes} from the start. */
    public static LocalAddresses of(final List<Ipv4Cidr> prefixes) {
        final LocalAddresses local = new LocalAddresses();
        local.replace(prefixes);
        return local;
    }

    /** Replaces the whole set; called whenever the local routing table changed. */
    public void replace(final List<Ipv4Cidr> prefixes) {
        final List<Integer> hosts = new ArrayList<>();
        final List<Ipv4Cidr> wider = new ArrayList<>();
        for (final Ipv4Cidr prefix : prefixes) {
            if (prefix.prefixLen() == 32) {
                hosts.add(prefix.base());
            } else {
                wider.add(prefix);
            }
        }
        final int[] sortedHosts = hosts.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
        final int[] bases = wider.stream().mapToInt(Ipv4Cidr::base).toArray();
        final int[] masks = wider.stream().mapToInt(p -> Ipv4Cidr.mask(p.prefixLen())).toArray();
        snapshot = new Snapshot(sortedHosts, bases, masks);
    }

    /** Whether {@code address} is one of this node's local addresses. Hot path. */
    public boolean contains(final int address) {
        final Snapshot s = snapshot;
        if (Arrays.binarySearch(s.hosts, address) >= 0) {
            return true;
        }
        for (int i = 0; i < s.prefixBases.length; i++) {
            if ((address & s.prefixMasks[i]) == s.prefixBases[i]) {
                return true;
            }
        }
        return false;
    }

    /** The set, for logs: host addresses in address order, then wider prefixes. */
    public List<String> describe() {
        final Snapshot s = snapshot;
        final List<String> out = new ArrayList<>();
        Arrays.stream(s.hosts).boxed().sorted(Integer::compareUnsigned).forEach(host -> out.add(Ipv4.format(host)));
        for (int i = 0; i < s.prefixBases.length; i++) {
            out.add(Ipv4.format(s.prefixBases[i]) + "/" + Integer.bitCount(s.prefixMasks[i]));
        }
        return out;
    }
}
