package dev.ferry.nativeio.netlink;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.nativeio.probe.NativeAccessProbe.Need;
import dev.ferry.nativeio.testing.Privileged;
import dev.ferry.nativeio.testing.TestNetns;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Privileged: the monitor listens in a namespace the test creates and changes. */
class RouteMonitorTest {
    private static final int WAIT_MS = 2_000;

    @BeforeAll
    static void privileged() {
        Privileged.require(Need.NETLINK);
    }

    /** A veth pair up in the namespace (no dummy driver on every kernel); fd0 is the end used. */
    private static void upLink(RtNetlink nl) {
        nl.createVeth("fd0", "fd1");
        nl.setUp("fd1", true);
        nl.setUp("fd0", true);
    }

    @Test
    void shouldReportAnAddressAddedAndRemovedAsALocalTableChange() throws Exception {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open); RouteMonitor monitor = ns.call(RouteMonitor::open)) {
            upLink(nl);
            monitor.awaitChange(Rtnl.RT_TABLE_LOCAL, 0); // drain whatever the link brought
            nl.addAddress("fd0", InetAddress.getByName("10.221.0.1"), 24);
            assertTrue(monitor.awaitChange(Rtnl.RT_TABLE_LOCAL, WAIT_MS), "the address's local route is announced");
            nl.deleteAddress("fd0", InetAddress.getByName("10.221.0.1"), 24);
            assertTrue(monitor.awaitChange(Rtnl.RT_TABLE_LOCAL, WAIT_MS), "and its removal");
        }
    }

    @Test
    void shouldIgnoreRoutesOfOtherTables() throws Exception {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open); RouteMonitor monitor = ns.call(RouteMonitor::open)) {
            upLink(nl);
            monitor.awaitChange(Rtnl.RT_TABLE_LOCAL, 200); // the link's own notifications, if any
            nl.addRoute(Route.to(InetAddress.getByName("10.222.0.0"), 16).dev(nl.ifindex("fd0")));
            assertFalse(monitor.awaitChange(Rtnl.RT_TABLE_LOCAL, 500), "a main-table route is not a local address");
            nl.addRoute(Route.to(InetAddress.getByName("10.223.0.0"), 16).dev(nl.ifindex("fd0")));
            assertTrue(monitor.awaitChange(Rtnl.RT_TABLE_MAIN, WAIT_MS), "but is a main-table change");
        }
    }

    @Test
    void shouldReturnAtOnceWhenWokenUp() throws Exception {
        try (TestNetns ns = TestNetns.create(); RouteMonitor monitor = ns.call(RouteMonitor::open)) {
            CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> monitor.awaitChange(Rtnl.RT_TABLE_LOCAL, -1));
            Thread.sleep(100);
            assertFalse(waiting.isDone(), "blocked until something happens");
            monitor.wakeUp();
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertFalse(waiting.get(), "a wake-up is no change"));
        }
    }

    @Test
    void shouldTreatATruncatedMessageAsAChange() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(64, 8);
            bytes.set(ValueLayout.JAVA_INT_UNALIGNED, 0, 200); // claims 200 bytes, 64 are there
            assertTrue(RouteMonitor.touches(bytes, 64, Rtnl.RT_TABLE_LOCAL));
            bytes.set(ValueLayout.JAVA_INT_UNALIGNED, 0, 16); // an empty NLMSG_NOOP-sized header of type 0
            assertFalse(RouteMonitor.touches(bytes, 16, Rtnl.RT_TABLE_LOCAL));
        }
    }
}
