package dev.ferry.control.host;

import dev.ferry.control.files.FileModes;
import dev.ferry.control.sync.EndpointPorts;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.nativeio.libc.NativeException;
import dev.ferry.nativeio.netlink.Address;
import dev.ferry.nativeio.netlink.Neighbour;
import dev.ferry.nativeio.netlink.Route;
import dev.ferry.nativeio.netlink.RtNetlink;
import dev.ferry.nativeio.netlink.Rtnl;
import dev.ferry.nativeio.netlink.Rule;
import dev.ferry.nativeio.netlink.Sysctl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Installs, adopts and removes the node's attach routing ({@link HostRouting}) through
 * rtnetlink, in the network namespace of the calling process. What is installed outlives the
 * agent: a stopped or crashed agent leaves ferry0 (persistent), its rules and routes and the
 * fallback routes in place, so that packets meant for translation are dropped (and
 * retransmitted) while no agent runs, never delivered untranslated; the next start
 * {@link #adopt adopts} it all and reconciles it to the desired state. The sysctls' previous
 * values go to a state file in the run directory before they are changed, with the port type;
 * {@link #cleanupLeftovers} (ferry agent --cleanup) restores them and removes everything,
 * found again by Ferry's rule priorities and the fallback routes' metric.
 */
public final class HostNetwork implements AutoCloseable, dev.ferry.control.sync.ServiceSync.HostState {
    private static final Logger LOG = Logger.getLogger(HostNetwork.class.getName());
    public static final String STATE_FILE = "host-state.properties";
    /** The state file's line for the port type, beside the sysctls' original values. */
    private static final String PORT_TYPE_KEY = "ferry.portType";

    private final RtNetlink netlink;
    private final Path stateFile;
    private final Map<String, String> savedSysctls = new LinkedHashMap<>();
    private final List<Rule> installedRules = new ArrayList<>();
    /** The routes into ferry0 that follow the desired state (ServiceSync's routePrefixes), each with its fallback. */
    private final Set<Ipv4Cidr> routedPrefixes = new HashSet<>();
    private final Map<Integer, List<Rule>> healthCheckRules = new java.util.HashMap<>();
    private final List<Rule> replyRules = new ArrayList<>();
    private volatile ReplySteering replySteering = ReplySteering.NONE;
    private Ipv4Cidr podCidr;
    private List<Ipv4Cidr> serviceCidrs = List.of();
    private List<Integer> nodePortIps = List.of();
    private String portType;
    private int ifindex;
    private InetAddress gateway;

    public HostNetwork(final Path runDir) {
        this.netlink = RtNetlink.open();
        this.stateFile = runDir.resolve(STATE_FILE);
    }

    /** What the reply steering holds now, for metrics. Any thread. */
    public ReplySteering replySteering() {
        return replySteering;
    }

    /**
     * Takes over what a previous agent of the same port type left (its state file says which):
     * the sysctls' original values are kept from the state file, and {@link #install} then
     * reconciles rules and routes instead of adding them anew. Without a state file naming this
     * port type, whatever is found is removed first, as {@link #cleanupLeftovers}.
     *
     * @return a line per thing adopted or cleaned, empty when the node was clean
     */
    public List<String> adopt(final String portType) {
        final Map<String, String> state = Files.exists(stateFile) ? readState() : Map.of();
        if (portType.equals(state.get(PORT_TYPE_KEY))) {
            state.forEach((key, value) -> {
                if (!key.equals(PORT_TYPE_KEY)) {
                    savedSysctls.put(key, value);
                }
            });
            this.portType = portType;
            final long rules = netlink.rules(false).stream().filter(r -> HostRouting.OWNED_PRIORITIES.contains(r.priority())).count();
            return List.of("adopted the previous agent's " + portType + " attach: " + rules + " policy rules"
                + (netlink.findLink(HostRouting.DEVICE).isPresent() ? ", " + HostRouting.DEVICE : "")
                + ", the sysctls' original values from " + stateFile);
        }
        final List<String> cleaned = cleanupLeftovers();
        this.portType = portType;
        return cleaned;
    }

    /**
     * Removes everything Ferry installs: its rules (by Ferry's priorities), the fallback routes,
     * the kernel's local rule at pref 0 put back, ferry0 deleted, the sysctls it changed
     * restored from the state file. What {@code ferry agent --cleanup} does.
     *
     * @return a line per thing cleaned, empty when there was nothing
     */
    public List<String> cleanupLeftovers() {
        final List<String> cleaned = new ArrayList<>();
        final List<Rule> rules = netlink.rules(false);
        final boolean hasDefaultLocal = rules.stream().anyMatch(r -> r.matches(HostRouting.defaultLocalRule()));
        if (!hasDefaultLocal) {
            netlink.addRule(HostRouting.defaultLocalRule());
            cleaned.add("restored rule: pref 0 lookup local");
        }
        for (final Rule rule : rules) {
            if (HostRouting.OWNED_PRIORITIES.contains(rule.priority())) {
                deleteQuietly(rule);
                cleaned.add("removed rule: " + rule);
            }
        }
        for (final int table : List.of(Rtnl.RT_TABLE_MAIN, HostRouting.TABLE)) {
            for (final Route route : netlink.routes(false, table)) {
                if (HostRouting.isFallback(route)) {
                    netlink.deleteRoute(route);
                    cleaned.add("removed fallback route " + route);
                }
            }
        }
        if (netlink.findLink(HostRouting.DEVICE).isPresent()) {
            netlink.deleteLink(HostRouting.DEVICE);
            cleaned.add("removed link " + HostRouting.DEVICE);
        }
        if (Files.exists(stateFile)) {
            final Map<String, String> state = readState();
            state.remove(PORT_TYPE_KEY);
            for (final Map.Entry<String, String> e : state.entrySet()) {
                writeSysctlQuietly(e.getKey(), e.getValue());
                cleaned.add("restored sysctl " + e.getKey() + "=" + e.getValue());
            }
            deleteStateFile();
        }
        return cleaned;
    }

    /** Records and sets the sysctls that do not depend on ferry0 existing. Call before creating the device. */
    public void prepareSysctls() {
        for (final String[] sysctl : HostRouting.sysctls()) {
            if (!sysctl[0].contains(HostRouting.DEVICE)) {
                setSysctl(sysctl[0], sysctl[1]);
            }
        }
    }

    /**
     * With ferry0 created (by the port), brings it up and installs the device sysctls, routes
     * and rules. Everything it adds is recorded for {@link #close()}. {@code snatAddressOwned}:
     * the SNAT address is a masquerade address of the node's own, put on ferry0 with scope host
     * so that the node answers ARP for it (replies from other nodes reach it) but never picks it
     * as the source of its own packets.
     */
    public void install(final PacketAttach.Link link, final NodeSpec node, final SnatRange snat, final boolean snatAddressOwned) {
        for (final String[] sysctl : HostRouting.sysctls()) {
            if (sysctl[0].contains(HostRouting.DEVICE)) {
                setSysctl(sysctl[0], sysctl[1]);
            }
        }
        this.nodePortIps = node.nodePortIps();
        this.podCidr = node.podCidr();
        this.serviceCidrs = node.serviceCidrs();
        netlink.setUp(HostRouting.DEVICE, true);
        ifindex = netlink.ifindex(HostRouting.DEVICE);
        if (link.peerMac() != null) {
            // frames into ferry0p need a next hop's MAC: the peer's, pinned as a permanent neighbour
            gateway = HostRouting.inet(PacketAttach.GATEWAY);
            netlink.addNeighbour(Neighbour.permanent(ifindex, gateway, link.peerMac()));
        }
        ownAddresses(snatAddressOwned ? List.of(snat.address()) : List.of());
        for (final Route route : HostRouting.routes(ifindex, gateway, serviceCidrs)) {
            netlink.replaceRoute(route); // the same route again when adopted
        }
        for (final Route route : HostRouting.fallbackRoutes(serviceCidrs)) {
            netlink.replaceRoute(route);
        }
        adoptPrefixRoutes();
        final List<Rule> found = netlink.rules(false).stream().filter(r -> HostRouting.OWNED_PRIORITIES.contains(r.priority())).toList();
        final List<Rule> wanted = HostRouting.rules(node, snat, snatAddressOwned);
        for (final Rule rule : wanted) {
            if (found.stream().noneMatch(rule::matches)) {
                netlink.addRule(rule);
            }
            installedRules.add(rule);
        }
        for (final Rule rule : found) {
            if (wanted.stream().anyMatch(rule::matches)) {
                continue;
            }
            if (rule.priority() == HostRouting.PREF_FROM_POD || rule.priority() == HostRouting.PREF_TO_POD
                || rule.priority() == HostRouting.PREF_FROM_POD_DONE && !rule.isJump()) {
                // reconciled by the first sync's steerReplies, which adds the wanted rules before
                // it removes these (an older agent's rules entering pods were at pref 21)
                replyRules.add(rule);
            } else if (rule.priority() == HostRouting.PREF_HEALTH_CHECK) {
                healthCheckRules.computeIfAbsent(rule.dportStart(), p -> new ArrayList<>()).add(rule); // and by deliverLocally
            } else {
                deleteQuietly(rule);
            }
        }
        // The local table's rule moves behind Ferry's: added at pref 100 above, removed at 0 now
        // (already gone when adopted).
        if (netlink.rules(false).stream().anyMatch(r -> r.matches(HostRouting.defaultLocalRule()))) {
            netlink.deleteRule(HostRouting.defaultLocalRule());
        }
    }

    /**
     * Makes ferry0's addresses exactly {@code addresses} (each /32, scope host): a persistent
     * ferry0 adopted from a previous agent keeps its address, or loses one the config dropped.
     */
    private void ownAddresses(final List<Integer> addresses) {
        final List<Integer> present = new ArrayList<>();
        for (final Address a : netlink.addresses(HostRouting.DEVICE)) {
            if (!(a.address() instanceof Inet4Address)) {
                continue;
            }
            final int address = Ipv4.parse(a.address().getHostAddress());
            if (addresses.contains(address) && a.prefixLength() == 32) {
                present.add(address);
            } else {
                netlink.deleteAddress(HostRouting.DEVICE, a.address(), a.prefixLength());
            }
        }
        for (final int address : addresses) {
            if (!present.contains(address)) {
                netlink.addAddress(HostRouting.DEVICE, HostRouting.inet(address), 32, Rtnl.RT_SCOPE_HOST);
            }
        }
    }

    /**
     * The routes into ferry0 a previous agent left beyond the node config's serviceCIDRs (the
     * cluster's service ranges, /32s of service addresses): the first sync's routePrefixes
     * reconciles them. A range that was in the config and is no longer goes with them.
     */
    private void adoptPrefixRoutes() {
        for (final Route route : netlink.routes(false, Rtnl.RT_TABLE_MAIN)) {
            // its routes into ferry0, or only their fallbacks where ferry0 went away with them
            if (route.destination() == null || !(route.ifindex() == ifindex || HostRouting.isFallback(route))) {
                continue;
            }
            final Ipv4Cidr prefix = new Ipv4Cidr(Ipv4.parse(route.destination().getHostAddress()), route.prefixLength());
            if (!serviceCidrs.contains(prefix)) {
                routedPrefixes.add(prefix);
            }
        }
    }

    /** Makes the set of healthCheckNodePorts delivered locally (rules at pref 29) equal {@code ports}. */
    @Override
    public void deliverLocally(final Set<Integer> ports) {
        for (final Integer port : Set.copyOf(healthCheckRules.keySet())) {
            if (!ports.contains(port)) {
                healthCheckRules.remove(port).forEach(this::deleteQuietly);
            }
        }
        for (final int port : ports) {
            if (healthCheckRules.containsKey(port)) {
                continue;
            }
            final List<Rule> added = new ArrayList<>();
            try {
                for (final Rule rule : HostRouting.healthCheckRules(nodePortIps, port)) {
                    netlink.addRule(rule);
                    added.add(rule);
                }
            } catch (final NativeException e) {
                LOG.warning("could not keep healthCheckNodePort " + port + " local: " + e.getMessage());
            }
            healthCheckRules.put(port, added);
        }
    }

    /**
     * Makes the endpoint-reply rules (prefs 20/22) those for {@code ports}: new rules are added
     * before old ones are removed, so a port in both sets is never left unsteered.
     */
    @Override
    public void steerReplies(final EndpointPorts ports) {
        final HostRouting.ReplyRules wanted = HostRouting.replyRules(podCidr, ports, HostRouting.DEFAULT_MAX_REPLY_RANGES);
        if (wanted.folded() && !replySteering.folded()) {
            LOG.warning(ports.size() + " endpoint ports need more than " + HostRouting.DEFAULT_MAX_REPLY_RANGES + " source-port ranges per protocol:"
                + " folded into fewer, wider ranges, so " + wanted.extraPorts() + " ports no endpoint uses are steered through "
                + HostRouting.DEVICE + " as well (they pass unchanged; metric ferry_reply_steering_extra_ports)");
        }
        for (final Rule rule : wanted.rules()) {
            if (replyRules.stream().noneMatch(rule::matches)) {
                try {
                    netlink.addRule(rule);
                    replyRules.add(rule);
                } catch (final NativeException e) {
                    LOG.warning("could not steer endpoint replies (" + rule + "): " + e.getMessage());
                }
            }
        }
        for (final Rule rule : List.copyOf(replyRules)) {
            if (wanted.rules().stream().noneMatch(rule::matches)) {
                deleteQuietly(rule);
                replyRules.remove(rule);
            }
        }
        replySteering = new ReplySteering(replyRules.size(), wanted.extraPorts(), wanted.folded());
    }

    /**
     * Makes the routes into ferry0 beyond the node config's serviceCIDRs (the cluster's other
     * service ranges, /32s of externalIPs, LoadBalancer IPs and stray ClusterIPs) equal
     * {@code prefixes}, each with its blackhole fallback, added first and removed last.
     */
    @Override
    public void routePrefixes(final Set<Ipv4Cidr> prefixes) {
        for (final Ipv4Cidr prefix : Set.copyOf(routedPrefixes)) {
            if (!prefixes.contains(prefix)) {
                for (final Route route : List.of(HostRouting.prefixRoute(ifindex, gateway, prefix), HostRouting.prefixFallback(prefix))) {
                    try {
                        netlink.deleteRoute(route);
                    } catch (final NativeException e) {
                        // already gone (a packet-port ferry0 takes its routes along when it goes)
                    }
                }
                routedPrefixes.remove(prefix);
            }
        }
        for (final Ipv4Cidr prefix : prefixes) {
            if (!routedPrefixes.contains(prefix)) {
                try {
                    netlink.replaceRoute(HostRouting.prefixFallback(prefix));
                    netlink.replaceRoute(HostRouting.prefixRoute(ifindex, gateway, prefix));
                    routedPrefixes.add(prefix);
                } catch (final NativeException e) {
                    LOG.warning("could not route " + prefix + " into " + HostRouting.DEVICE + ": " + e.getMessage());
                }
            }
        }
    }

    /** A description of what is installed, for the one start-up log line. */
    public String describe() {
        return HostRouting.DEVICE + " (ifindex " + ifindex + "), " + installedRules.size() + " policy rules "
            + installedRules + ", " + replyRules.size() + " endpoint-reply rules, sysctls " + HostRouting.sysctls().stream().map(s -> s[0] + "=" + s[1]).toList();
    }

    /** The rtnetlink connection, in this process's namespace. */
    public RtNetlink netlink() {
        return netlink;
    }

    /**
     * Closes the rtnetlink connection and leaves everything installed: while no agent runs,
     * what should have been translated is dropped (ferry0 without a reader, or the fallback
     * routes), and the next start adopts it. {@link #cleanupLeftovers} removes it.
     */
    @Override
    public void close() {
        netlink.close();
    }

    private void setSysctl(final String key, final String value) {
        final String previous = Sysctl.read(key);
        if (!savedSysctls.containsKey(key)) {
            savedSysctls.put(key, previous);
            writeState();
        }
        Sysctl.write(key, value);
    }

    private void deleteQuietly(final Rule rule) {
        try {
            netlink.deleteRule(rule);
        } catch (final NativeException e) {
            LOG.warning("could not remove rule " + rule + ": " + e.getMessage());
        }
    }

    private static void writeSysctlQuietly(final String key, final String value) {
        try {
            Sysctl.write(key, value);
        } catch (final UncheckedIOException e) {
            // a per-device sysctl is gone with its device: nothing to restore
            if (!key.contains(HostRouting.DEVICE)) {
                LOG.warning(e.getMessage());
            }
        }
    }

    private void writeState() {
        final StringBuilder out = new StringBuilder("# the port type and the sysctl values before ferry changed them; kept for the next start, restored by ferry agent --cleanup\n");
        if (portType != null) {
            out.append(PORT_TYPE_KEY).append('=').append(portType).append('\n');
        }
        savedSysctls.forEach((k, v) -> out.append(k).append('=').append(v).append('\n'));
        try {
            Files.createDirectories(stateFile.getParent());
            Files.writeString(stateFile, out);
            FileModes.ownerOnly(stateFile);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot write " + stateFile + ": " + e.getMessage(), e);
        }
    }

    private Map<String, String> readState() {
        final Map<String, String> state = new LinkedHashMap<>();
        try {
            for (final String line : Files.readAllLines(stateFile)) {
                final int eq = line.indexOf('=');
                if (!line.startsWith("#") && eq > 0) {
                    state.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        } catch (final IOException e) {
            LOG.warning("cannot read " + stateFile + ": " + e.getMessage());
        }
        return state;
    }

    private void deleteStateFile() {
        try {
            Files.deleteIfExists(stateFile);
        } catch (final IOException e) {
            LOG.warning("cannot delete " + stateFile + ": " + e.getMessage());
        }
    }
}
