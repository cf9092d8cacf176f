package dev.ferry.control.host;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.LocalAddresses;
import dev.ferry.nativeio.netlink.Route;
import dev.ferry.nativeio.netlink.RouteMonitor;
import dev.ferry.nativeio.netlink.RtNetlink;
import dev.ferry.nativeio.netlink.Rtnl;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Keeps {@link LocalAddresses} equal to the kernel's idea of this node's own addresses: the
 * {@code local} routes of the local routing table, which is what kube-proxy's
 * {@code fib saddr type local} consults. Every address an interface gains or loses (a bridge
 * coming up, DHCP, an address added by hand) reaches the router in milliseconds, without a
 * restart and without polling: a thread blocks in the kernel on a route notification socket and
 * re-reads the table when the local table changed.
 *
 * <p>Both sockets open in the calling thread's network namespace (the agent's). A failed
 * re-read keeps the last set and is logged; it never stops the agent.
 */
public final class LocalAddressWatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LocalAddressWatcher.class.getName());
    private static final long STOP_WAIT_MS = 2_000;

    private final LocalAddresses target;
    private final RouteMonitor monitor;
    private final RtNetlink netlink;
    private final Thread thread;
    private volatile boolean running = true;

    private LocalAddressWatcher(final LocalAddresses target, final RouteMonitor monitor, final RtNetlink netlink) {
        this.target = target;
        this.monitor = monitor;
        this.netlink = netlink;
        this.thread = new Thread(this::run, "ferry-local-addresses");
        thread.setDaemon(true);
    }

    /**
     * Fills {@code target} from the local table now, then follows it on a thread of its own.
     * Subscribes before the first read, so a change in between is not missed.
     */
    public static LocalAddressWatcher start(final LocalAddresses target) {
        final RouteMonitor monitor = RouteMonitor.open();
        final RtNetlink netlink;
        try {
            netlink = RtNetlink.open();
        } catch (final RuntimeException e) {
            monitor.close();
            throw e;
        }
        final LocalAddressWatcher watcher = new LocalAddressWatcher(target, monitor, netlink);
        try {
            target.replace(read(netlink));
        } catch (final RuntimeException e) {
            watcher.closeSockets();
            throw e;
        }
        watcher.thread.start();
        return watcher;
    }

    /** The IPv4 {@code local} routes of the local table (addresses and local prefixes). */
    static List<Ipv4Cidr> read(final RtNetlink netlink) {
        final List<Ipv4Cidr> out = new ArrayList<>();
        for (final Route route : netlink.routes(false, Rtnl.RT_TABLE_LOCAL)) {
            if (route.type() == Rtnl.RTN_LOCAL && route.destination() != null) {
                out.add(new Ipv4Cidr(Ipv4.parse(route.destination().getHostAddress()), route.prefixLength()));
            }
        }
        return out;
    }

    private void run() {
        // a change whose re-read failed is read again after a pause, not left until the next change
        boolean pending = false;
        while (running) {
            try {
                pending |= monitor.awaitChange(Rtnl.RT_TABLE_LOCAL, pending ? 0 : -1);
                if (pending && running) {
                    final List<String> before = target.describe();
                    target.replace(read(netlink));
                    pending = false;
                    final List<String> after = target.describe();
                    if (!before.equals(after)) {
                        LOG.info("local addresses now " + after);
                    }
                }
            } catch (final RuntimeException e) {
                // keep the last set: a transient netlink error must not stop node detection
                pending = true;
                LOG.warning("could not re-read the local addresses (keeping " + target.describe() + ", trying again): "
                    + e.getMessage());
                sleepQuietly();
            }
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1_000); // a failing socket must not spin
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        monitor.wakeUp();
        try {
            thread.join(STOP_WAIT_MS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warning("the local address watcher did not stop within " + STOP_WAIT_MS + " ms; its sockets stay open");
            return; // closing the arena under a thread still in poll(2) would crash the JVM
        }
        closeSockets();
    }

    private void closeSockets() {
        monitor.close();
        netlink.close();
    }
}
