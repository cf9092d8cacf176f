package dev.ferry.perf;

import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Compiling a {@link ServiceTable} snapshot from the control side's specs: what every sync
 * does before the one-reference swap (services with one TCP port and ten endpoints each).
 * The specs are built once; parsing manifests is not included.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // the fork inherits this JVM's options: jvm.options (perf/README.md)
public class SnapshotCompileBenchmark {
    @Param({"1", "10000"})
    public int services;

    private List<ServicePortSpec> specs;

    @Setup(Level.Trial)
    public void setUp() {
        specs = SyntheticCluster.services(services);
    }

    @Benchmark
    public ServiceTable compile() {
        return ServiceTable.compile(SyntheticCluster.node(), specs);
    }
}
