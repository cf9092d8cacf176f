package dev.ferry.dataplane.service;

import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.lb.RandomSelector;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;

import static dev.ferry.dataplane.service.Fixtures.ip;
import static dev.ferry.dataplane.service.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The hot path must not allocate: measured with the JVM's per-thread allocation counter. */
class ServiceRouterAllocationTest {

    @Test
    void shouldNotAllocateWhileRouting() {
        final java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "no per-thread allocation counter");
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        assumeTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);

        final java.util.List<ServicePortSpec> specs = new java.util.ArrayList<>(ServiceRouterFlowTest.services());
        specs.add(Fixtures.svc("sticky", Protocol.TCP, 80).clusterIp("10.96.1.1").affinity(60)
            .ready("10.244.2.1", 80, false).ready("10.244.2.2", 80, false).build());
        final ServiceTable table = ServiceTable.compile(node(false), specs);
        final ServiceRouter router = new ServiceRouter(
            new ClientIpAffinitySelector(new ClientIpAffinityTable(1 << 12), new RandomSelector(new SplittableRandom(3))));
        final RouteDecision out = new RouteDecision();
        final int[][] flows = {
            {6, ip("10.244.1.9"), ip("10.96.0.10"), 80},
            {6, ip("203.0.113.7"), ip("198.18.0.11"), 30050},
            {6, ip("198.51.100.9"), ip("198.18.100.10"), 443},
            {6, ip("10.244.1.9"), ip("10.96.0.10"), 81},
            {6, ip("10.244.1.9"), ip("10.96.5.5"), 80},
            {17, ip("10.244.1.9"), ip("8.8.8.8"), 53},
            {6, ip("10.244.1.9"), ip("10.96.1.1"), 80},
            {1, ip("10.244.1.9"), ip("10.96.0.10"), 0},
        };
        final long threadId = Thread.currentThread().threadId();
        long sink = 0;
        for (int round = 0; round < 3; round++) {
            final long before = threads.getThreadAllocatedBytes(threadId);
            for (int i = 0; i < 200_000; i++) {
                final int[] f = flows[i & 7];
                router.route(table, f[0], f[1] + (i & 0xFF), 40000, f[2], f[3], i, out);
                sink += out.backendAddress();
            }
            final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
            if (round == 2) {
                // The counter's own call may allocate a few bytes; a per-packet allocation would be megabytes.
                assertEquals(0, allocated / 4096, "bytes allocated while routing 200000 packets: " + allocated + " " + sink);
            }
        }
    }
}
