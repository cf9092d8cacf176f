package dev.ferry.perf;

import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.service.RouteDecision;
import dev.ferry.dataplane.service.ServiceRouter;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.dataplane.service.Verdict;
import dev.ferry.nativeio.IpProtocol;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

import static dev.ferry.perf.SyntheticCluster.NOW_MS;
import static dev.ferry.perf.SyntheticCluster.SERVICE_PORT;

/**
 * Service lookup at 10 to 100,000 services (one TCP port, ten endpoints each): the frontend
 * hash lookup alone ({@link ServiceTable#lookup}) and the whole routing decision of a new flow
 * ({@link ServiceRouter#route}: lookup, traffic policy, masquerade decision, random endpoint pick).
 * Each operation asks for the next ClusterIP of a precomputed uniform random sequence over all
 * services, from a pod client, so that a large table is visited the way many clients would.
 * {@link #pickOnly} reads the sequence alone, as the baseline.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // the fork inherits this JVM's options: jvm.options (perf/README.md)
public class ServiceLookupBenchmark {
    private static final int CLIENT_PORT = 40000;

    @Param({"10", "1000", "10000", "100000"})
    public int services;

    private ServiceTable table;
    private ServiceRouter router;
    private final RouteDecision decision = new RouteDecision();
    private int[] destinations;
    private int[] clients;
    private int cursor;
    private long notDnat;

    @Setup(Level.Trial)
    public void setUp() {
        table = ServiceTable.compile(SyntheticCluster.node(), SyntheticCluster.services(services));
        router = new ServiceRouter(new ClientIpAffinitySelector(new ClientIpAffinityTable()));
        final int[] picks = FlowOrder.random(services);
        destinations = new int[FlowOrder.LENGTH];
        clients = new int[FlowOrder.LENGTH];
        for (int i = 0; i < FlowOrder.LENGTH; i++) {
            destinations[i] = SyntheticCluster.clusterIp(picks[i]);
            clients[i] = SyntheticCluster.clientAddress(SyntheticCluster.Source.POD, i);
        }
        for (int s = 0; s < services; s++) {
            if (table.lookup(SyntheticCluster.clusterIp(s), IpProtocol.TCP, SERVICE_PORT) == ServiceTable.NO_ENTRY) {
                throw new IllegalStateException("service " + s + " has no frontend in the compiled table");
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (notDnat != 0) {
            throw new IllegalStateException(notDnat + " routes were not DNAT");
        }
    }

    private int next() {
        final int i = cursor;
        cursor = (i + 1) & FlowOrder.MASK;
        return i;
    }

    /** Baseline: reading the next destination only. */
    @Benchmark
    public int pickOnly() {
        return destinations[next()];
    }

    /** Frontend lookup of (ClusterIP, TCP, 80). */
    @Benchmark
    public int lookup() {
        return table.lookup(destinations[next()], IpProtocol.TCP, SERVICE_PORT);
    }

    /** The full routing decision of a new flow to (ClusterIP, TCP, 80). */
    @Benchmark
    public int route() {
        final int i = next();
        router.route(table, IpProtocol.TCP, clients[i], CLIENT_PORT, destinations[i], SERVICE_PORT, NOW_MS, decision);
        if (decision.verdict() != Verdict.DNAT) {
            notDnat++;
        }
        return decision.backendAddress();
    }
}
