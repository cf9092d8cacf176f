package dev.ferry.control.testing;

import dev.ferry.nativeio.probe.NativeAccessProbe;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * One node in network namespaces, for agent tests: a node namespace, pod namespaces wired as
 * Calico does (a /32 per pod, default via 169.254.1.1, proxy_arp on the host-side veth), and a
 * client namespace on the node's network (198.18.0.0/24) with a route to the service CIDR via
 * the node. Every namespace is named with a prefix ({@link #PREFIX} unless given) so that a
 * run that died can be cleaned up by the next; {@link #close()} removes them all. Labs with
 * different prefixes can exist at once.
 *
 * <pre>
 *   client 198.18.0.100 ── eth0 ── node 198.18.0.11 ── vpN ── podN 10.244.1.1N/32
 * </pre>
 */
public final class NodeLab implements AutoCloseable {
    /** Namespaces of every NodeLab start with this, then the test JVM's pid: {@code fagt-PID-...}. */
    public static final String PREFIX = "fagt-";
    public static final String NODE_IP = "198.18.0.11";
    public static final String CLIENT_IP = "198.18.0.100";

    private final List<String> namespaces = new ArrayList<>();
    private final String prefix;
    private final int pods;

    public NodeLab(final int pods) {
        this("", pods);
    }

    /**
     * A lab whose namespaces are {@code fagt-PID-NAME...} ({@code name} keeps a test class
     * apart from the others): two test JVMs on one machine never share or remove each other's
     * namespaces, and labs of dead test JVMs are removed on first use.
     */
    public NodeLab(final String name, final int pods) {
        this.prefix = PREFIX + ProcessHandle.current().pid() + "-" + name;
        this.pods = pods;
        requirePrivileges();
        removeStale();
        try {
            build();
        } catch (final RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Privileged tests must run, not skip: say what is missing. */
    public static void requirePrivileges() {
        final NativeAccessProbe.Availability a = NativeAccessProbe.check(NativeAccessProbe.Need.TUN, NativeAccessProbe.Need.NETLINK);
        if (!a.available()) {
            fail("privileged agent test cannot run: " + a.describe() + ". Run the tests as root (CI runs bash .ci/run as root).");
        }
        if (Shell.tryRun("ip", "-V").exitCode() != 0) {
            fail("the agent tests need 'ip': apt-get install iproute2");
        }
    }

    private void removeStale() {
        for (final String line : Shell.run("ip", "netns", "list").split("\n")) {
            final String name = line.split(" ")[0];
            if (name.startsWith(prefix) || (name.startsWith(PREFIX) && !ownerAlive(name))) {
                Shell.tryRun("ip", "netns", "pids", name).stdout().lines()
                    .forEach(pid -> Shell.tryRun("kill", "-9", pid.trim()));
                Shell.tryRun("ip", "netns", "del", name);
            }
        }
    }

    /** Whether the test JVM whose pid a {@code fagt-PID-...} name carries still runs. */
    private static boolean ownerAlive(final String namespace) {
        final String rest = namespace.substring(PREFIX.length());
        final int dash = rest.indexOf('-');
        try {
            return dash > 0 && ProcessHandle.of(Long.parseLong(rest.substring(0, dash))).isPresent();
        } catch (final NumberFormatException e) {
            return false; // an old-style name without a pid
        }
    }

    public String node() {
        return prefix + "node";
    }

    public String client() {
        return prefix + "client";
    }

    public String pod(final int i) {
        return prefix + "pod" + i;
    }

    public static String podIp(final int i) {
        return "10.244.1.1" + i;
    }

    private void add(final String ns) {
        Shell.run("ip", "netns", "add", ns);
        namespaces.add(ns);
        Shell.run("ip", "-n", ns, "link", "set", "lo", "up");
    }

    private void build() {
        add(node());
        add(client());
        for (int i = 1; i <= pods; i++) {
            final String pod = pod(i);
            add(pod);
            Shell.run("ip", "link", "add", "vp" + i, "netns", node(), "type", "veth", "peer", "name", "eth0", "netns", pod);
            Shell.run("ip", "-n", pod, "addr", "add", podIp(i) + "/32", "dev", "eth0");
            Shell.run("ip", "-n", pod, "link", "set", "eth0", "up");
            Shell.run("ip", "-n", pod, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
            Shell.run("ip", "-n", pod, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0");
            Shell.run("ip", "-n", node(), "link", "set", "vp" + i, "up");
            Shell.run("ip", "-n", node(), "route", "add", podIp(i) + "/32", "dev", "vp" + i);
            Shell.inNs(node(), "sysctl", "-qw", "net.ipv4.conf.vp" + i + ".proxy_arp=1");
        }
        Shell.run("ip", "link", "add", "eth0", "netns", node(), "type", "veth", "peer", "name", "eth0", "netns", client());
        Shell.run("ip", "-n", node(), "addr", "add", NODE_IP + "/24", "dev", "eth0");
        Shell.run("ip", "-n", node(), "link", "set", "eth0", "up");
        Shell.run("ip", "-n", client(), "addr", "add", CLIENT_IP + "/24", "dev", "eth0");
        Shell.run("ip", "-n", client(), "link", "set", "eth0", "up");
        Shell.run("ip", "-n", client(), "route", "add", "10.96.0.0/12", "via", NODE_IP);
        // A node has a default route, as real ones do: the pods' gateway 169.254.1.1 is answered
        // by proxy ARP only when the node has a route to it (the client does not forward)
        Shell.run("ip", "-n", node(), "route", "add", "default", "via", CLIENT_IP);
    }

    /** The node namespace's links, IPv4 addresses, rules, routes (all tables) and the sysctls the agent touches, as text. */
    public String nodeNetworkState() {
        return String.join("\n---\n",
            Shell.run("ip", "-n", node(), "-d", "link", "show").replaceAll("\\s+altname \\S+", ""),
            // IPv6 link-local addresses go from "tentative" to settled on their own: compare IPv4 addresses
            Shell.run("ip", "-n", node(), "-4", "addr", "show"),
            Shell.run("ip", "-n", node(), "rule", "show"),
            // IPv4 only: the agent does not touch IPv6, whose link-local routes appear on their own after DAD
            Shell.run("ip", "-n", node(), "-4", "route", "show", "table", "all"),
            Shell.inNs(node(), "sysctl", "net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.all.accept_local",
                "net.ipv4.tcp_early_demux"));
    }

    @Override
    public void close() {
        for (final String ns : namespaces.reversed()) {
            Shell.tryRun("ip", "netns", "pids", ns).stdout().lines()
                .forEach(pid -> Shell.tryRun("kill", "-9", pid.trim()));
            Shell.tryRun("ip", "netns", "del", ns);
        }
        namespaces.clear();
    }
}
