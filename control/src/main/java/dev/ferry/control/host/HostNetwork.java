package dev.ferry.control.host;

import dev.ferry.control.sync.EndpointPorts;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.nativeio.libc.NativeException;
import dev.ferry.nativeio.netlink.Neighbour;
import dev.ferry.nativeio.netlink.Route;
import dev.ferry.nativeio.netlink.RtNetlink;
import dev.ferry.nativeio.netlink.Rule;
import dev.ferry.nativeio.netlink.Sysctl;

import java.io.IOException;
import java.io.UncheckedIOException;
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
 * Installs and removes the node's attach routing ({@link HostRouting}) through rtnetlink, in
 * the network namespace of the calling process. What it changes it records: the sysctls'
 * previous values go to a state file in the run directory first, so that a successor can
 * restore them after a crash ({@link #cleanupLeftovers}); rules are found again by their
 * priorities, and routes through ferry0 vanish with the device.
 */
public final class HostNetwork implements AutoCloseable, dev.ferry.control.sync.ServiceSync.HostState {
    private static final Logger LOG = Logger.getLogger(HostNetwork.class.getName());
    private static final String STATE_FILE = "host-state.properties";

    private final RtNetlink netlink;
    private final Path stateFile;
    private final Map<String, String> savedSysctls = new LinkedHashMap<>();
    private final List<Rule> installedRules = new ArrayList<>();
    private final Set<Integer> routedAddresses = new HashSet<>();
    private final Map<Integer, List<Rule>> healthCheckRules = new java.util.HashMap<>();
    private final List<Rule> replyRules = new ArrayList<>();
    private final int maxReplyRanges;
    private volatile ReplySteering replySteering = ReplySteering.NONE;
    private Ipv4Cidr podCidr;
    private List<Integer> nodePortIps = List.of();
    private boolean localRuleMoved;
    private int ifindex;
    private InetAddress gateway;

    public HostNetwork(final Path runDir) {
        this(runDir, HostRouting.DEFAULT_MAX_REPLY_RANGES);
    }

    /** @param maxReplyRanges the most source-port ranges per protocol and direction for endpoint replies */
    public HostNetwork(final Path runDir, final int maxReplyRanges) {
        this.netlink = RtNetlink.open();
        this.stateFile = runDir.resolve(STATE_FILE);
        this.maxReplyRanges = maxReplyRanges;
    }

    /** What the reply steering holds now, for metrics. Any thread. */
    public ReplySteering replySteering() {
        return replySteering;
    }

    /**
     * Removes what a crashed predecessor left: its rules (by Ferry's priorities), the kernel's
     * local rule at pref 0 put back, ferry0 deleted, the sysctls it changed restored.
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
        if (netlink.findLink(HostRouting.DEVICE).isPresent()) {
            netlink.deleteLink(HostRouting.DEVICE);
            cleaned.add("removed link " + HostRouting.DEVICE);
        }
        if (Files.exists(stateFile)) {
            for (final Map.Entry<String, String> e : readState().entrySet()) {
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
     * and rules. Everything it adds is recorded for {@link #close()}.
     */
    public void install(final PacketAttach.Link link, final List<Ipv4Cidr> serviceCidrs, final Ipv4Cidr podCidr,
                        final List<Integer> nodePortIps, final int nodePortMin, final int nodePortMax, final SnatRange snat) {
        for (final String[] sysctl : HostRouting.sysctls()) {
            if (sysctl[0].contains(HostRouting.DEVICE)) {
                setSysctl(sysctl[0], sysctl[1]);
            }
        }
        this.nodePortIps = List.copyOf(nodePortIps);
        this.podCidr = podCidr;
        netlink.setUp(HostRouting.DEVICE, true);
        ifindex = netlink.ifindex(HostRouting.DEVICE);
        if (link.peerMac() != null) {
            // frames into ferry0p need a next hop's MAC: the peer's, pinned as a permanent neighbour
            gateway = HostRouting.inet(PacketAttach.GATEWAY);
            netlink.addNeighbour(Neighbour.permanent(ifindex, gateway, link.peerMac()));
        }
        for (final Route route : HostRouting.routes(ifindex, gateway, serviceCidrs)) {
            netlink.addRoute(route);
        }
        for (final Rule rule : HostRouting.rules(podCidr, nodePortIps, nodePortMin, nodePortMax, snat)) {
            netlink.addRule(rule);
            installedRules.add(rule);
        }
        // The local table's rule moves behind Ferry's: added at pref 100 above, removed at 0 now.
        netlink.deleteRule(HostRouting.defaultLocalRule());
        localRuleMoved = true;
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
     * Makes the endpoint-reply rules (prefs 20/21) those for {@code ports}: new rules are added
     * before old ones are removed, so a port in both sets is never left unsteered.
     */
    @Override
    public void steerReplies(final EndpointPorts ports) {
        final HostRouting.ReplyRules wanted = HostRouting.replyRules(podCidr, ports, maxReplyRanges);
        if (wanted.folded() && !replySteering.folded()) {
            LOG.warning(ports.size() + " endpoint ports need more than " + maxReplyRanges + " source-port ranges per protocol:"
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

    /** Makes the set of externalIP/LoadBalancer-IP routes into ferry0 equal {@code addresses}. */
    @Override
    public void routeAddresses(final Set<Integer> addresses) {
        for (final int address : Set.copyOf(routedAddresses)) {
            if (!addresses.contains(address)) {
                try {
                    netlink.deleteRoute(HostRouting.addressRoute(ifindex, gateway, address));
                } catch (final NativeException e) {
                    LOG.warning("could not remove route " + Ipv4.format(address) + "/32: " + e.getMessage());
                }
                routedAddresses.remove(address);
            }
        }
        for (final int address : addresses) {
            if (!routedAddresses.contains(address)) {
                try {
                    netlink.replaceRoute(HostRouting.addressRoute(ifindex, gateway, address));
                    routedAddresses.add(address);
                } catch (final NativeException e) {
                    LOG.warning("could not route " + Ipv4.format(address) + "/32 into " + HostRouting.DEVICE + ": " + e.getMessage());
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

    /** Removes everything install added and restores the sysctls; ferry0 itself is removed by closing its port. */
    @Override
    public void close() {
        if (localRuleMoved) {
            try {
                netlink.addRule(HostRouting.defaultLocalRule());
            } catch (final NativeException e) {
                LOG.severe("could not restore 'pref 0 lookup local': " + e.getMessage());
            }
        }
        for (final Rule rule : installedRules.reversed()) {
            deleteQuietly(rule);
        }
        installedRules.clear();
        healthCheckRules.values().forEach(rules -> rules.forEach(this::deleteQuietly));
        healthCheckRules.clear();
        replyRules.forEach(this::deleteQuietly);
        replyRules.clear();
        for (final int address : Set.copyOf(routedAddresses)) {
            try {
                netlink.deleteRoute(HostRouting.addressRoute(ifindex, gateway, address));
            } catch (final NativeException e) {
                // the route goes with ferry0 anyway
            }
        }
        routedAddresses.clear();
        for (final Map.Entry<String, String> e : savedSysctls.entrySet()) {
            writeSysctlQuietly(e.getKey(), e.getValue());
        }
        savedSysctls.clear();
        deleteStateFile();
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
        final StringBuilder out = new StringBuilder("# sysctl values before ferry changed them; restored at exit or by the next start\n");
        savedSysctls.forEach((k, v) -> out.append(k).append('=').append(v).append('\n'));
        try {
            Files.createDirectories(stateFile.getParent());
            Files.writeString(stateFile, out);
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
