package dev.ferry.control.source.kube;

import dev.ferry.control.source.DesiredState;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.control.admin.AdminServer;
import dev.ferry.control.admin.AgentStatus;
import dev.ferry.control.health.SyncTracker;
import dev.ferry.control.agent.Agent;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.PortType;
import dev.ferry.control.sync.ServiceSync;
import dev.ferry.control.testing.Http;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.dataplane.trace.TraceFlow;
import dev.ferry.dataplane.trace.TraceResult;
import dev.ferry.dataplane.trace.Tracer;
import org.agrona.concurrent.CachedEpochClock;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The agent's control side around a {@link KubeStateSource}, without the kernel parts: the same
 * listener wiring as {@link Agent} (change counts into a {@link SyncTracker}, the desired state
 * into a {@link ServiceSync} that compiles and swaps the {@link ServiceTable}), the admin server's
 * {@code /healthz} on a free loopback port, and a clock the test advances. The dataplane's view is
 * read through {@link Tracer}: the workers' packet code run on the live snapshot.
 */
final class SourceHarness implements AutoCloseable {
    static final long START_MS = 1_700_000_000_000L;
    static final long HEALTHZ_TIMEOUT_MS = 60_000;
    /** A bound on waiting for the source to catch up, not a speed requirement. */
    static final long WAIT_MS = 20_000;

    final CachedEpochClock clock = new CachedEpochClock();
    final SyncTracker tracker;
    final NodeConfig config;
    final ServiceTableHolder tables;
    final List<DesiredState> states = new CopyOnWriteArrayList<>();
    private final ConntrackTable conntrack;
    private final ServiceSync sync;
    private final AdminServer admin;
    private KubeStateSource source;

    SourceHarness() {
        clock.update(START_MS);
        tracker = new SyncTracker(clock, HEALTHZ_TIMEOUT_MS);
        config = nodeConfig();
        tables = new ServiceTableHolder(ServiceTable.empty(config.toNodeSpec()));
        conntrack = ConntrackTable.inMemory(64, ConntrackTimeouts.kubeProxyDefaults());
        sync = new ServiceSync(config.toNodeSpec(), tables, conntrack, ServiceSync.HostState.NONE, (durationNs, queuedAtMs, ok) -> {
            if (ok) {
                tracker.syncSucceeded(durationNs);
            } else {
                tracker.syncFailed(durationNs);
            }
        });
        admin = AdminServer.start(new AdminServer.Context()
            .status(AgentStatus.of(tables::get, conntrack, null, tracker))
            .clock(clock)
            .healthzPort(0)
            .metricsPort(0));
    }

    static NodeConfig nodeConfig() {
        return new NodeConfig(new NodeSpec(ApiFixtures.NODE, List.of(Ipv4.parse(ApiFixtures.NODE_IP)),
            List.of(Ipv4Cidr.parse("10.244.0.0/16")), Ipv4Cidr.parse(ApiFixtures.POD_CIDR), List.of(Ipv4Cidr.parse("10.96.0.0/12")),
            30000, 32767, List.of(), false), PortType.TUN);
    }

    /** Starts {@code source} as the agent does: health first, then the listener. */
    SourceHarness start(final KubeStateSource kubeSource) {
        this.source = kubeSource;
        source.health(tracker);
        source.start(state -> {
            tracker.changeQueued();
            tracker.servicesChanged(state.servicesChanged());
            tracker.endpointsChanged(state.endpointsChanged());
            sync.setDesired(state.ports(), state.extraServiceCidrs(), clock.time());
            sync.sync();
            states.add(state);
        });
        return this;
    }

    /** A first TCP (or UDP) packet from {@code src} to {@code dst:port} through the live snapshot. */
    TraceResult trace(final Protocol protocol, final String src, final String dst, final int port) {
        return new Tracer(tables.get()).trace(new TraceFlow(protocol, Ipv4.parse(src), 0, Ipv4.parse(dst), port));
    }

    /** From a local pod, TCP. */
    TraceResult fromPod(final String dst, final int port) {
        return trace(Protocol.TCP, "10.244.1.9", dst, port);
    }

    /** Waits (bounded) until the trace of {@code dst:port} from a local pod satisfies {@code expected}; returns it. */
    TraceResult awaitFromPod(final String dst, final int port, final Predicate<TraceResult> expected, final String what) {
        final long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        TraceResult last = fromPod(dst, port);
        while (!expected.test(last)) {
            if (System.nanoTime() > deadline) {
                fail(what + ": the snapshot did not follow; last trace of " + dst + ":" + port + " was " + last);
            }
            pause();
            last = fromPod(dst, port);
        }
        return last;
    }

    static void await(final BooleanSupplier condition, final String what) {
        final long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within the bound: " + what);
            }
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    Http.Response healthz() {
        return Http.get("127.0.0.1", admin.healthzAddress().getPort(), "/healthz", 5_000);
    }

    Http.Response livez() {
        return Http.get("127.0.0.1", admin.healthzAddress().getPort(), "/livez", 5_000);
    }

    @Override
    public void close() {
        if (source != null) {
            source.close();
        }
        admin.close();
        conntrack.close();
    }
}
