package dev.ferry.perf.lab;

import dev.ferry.perf.load.LoadMode;
import dev.ferry.perf.load.LoadResult;
import dev.ferry.perf.report.Machine;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything one {@code ferry bench lab} run measured, as written to {@code lab.json} and read
 * back by the report.
 *
 * @param machine   where it ran
 * @param settings  how (window, concurrency, service counts)
 * @param loads     one entry per (dataplane, services, load mode)
 * @param syncs     time to program N services from nothing, and one-service changes, per dataplane
 * @param agentCpu  what the Ferry agent's process used of the CPU while idle and under each load
 */
public record LabResults(Machine machine, String settings, List<Load> loads, List<Sync> syncs, List<AgentCpu> agentCpu) {

    public LabResults(final Machine machine, final String settings, final List<Load> loads, final List<Sync> syncs) {
        this(machine, settings, loads, syncs, List.of());
    }

    /**
     * The agent's CPU time over wall time, in cores (0.5 = half of one core), from its process's
     * utime + stime in /proc: {@code during} is "idle" (a quiet interval after its first sync,
     * before any load) or a load mode ("CRR", ...; warmup and window together).
     */
    public record AgentCpu(String dataplane, int services, int round, String during, double cores) {
    }

    /**
     * One load run. {@code result} is null when the run failed; {@code error} then says why.
     * {@code snat}: for a Ferry agent on a masqueraded path, what its SNAT counters did during
     * the run (warmup included); null otherwise. {@code round}: which pass over the dataplanes
     * measured it (1, 2, ...; 0 in files written before rounds existed, read as one round).
     */
    public record Load(String dataplane, int services, LoadMode mode, LoadResult result, String error, Snat snat, int round) {
        public Load(final String dataplane, final int services, final LoadMode mode, final LoadResult result, final String error) {
            this(dataplane, services, mode, result, error, null, 1);
        }

        public Load withSnat(final Snat counters) {
            return new Load(dataplane, services, mode, result, error, counters, round);
        }

        public Load inRound(final int number) {
            return new Load(dataplane, services, mode, result, error, snat, number);
        }
    }

    /** SNAT counters over one load: SYNs dropped for want of a free tuple, tuples taken over from finished flows. */
    public record Snat(long portsExhausted, long tuplesReused) {
    }

    /**
     * A programming time. {@code kind} is "full" (all services from nothing) or "change" (one
     * service added to the others). {@code commandMs}: nft / iptables-restore alone, or for
     * Ferry the agent's own sync duration; {@code servingMs}: from the write (or the agent's
     * start, for "full") to the first connection the dataplane answered; {@code writeMs}: for
     * Ferry's changes, how long writing the change took (the manifest file's rename, or the API
     * server's answers to the change's requests), NaN where not measured.
     */
    public record Sync(String dataplane, int services, String kind, double commandMs, double servingMs, Double writeMs) {
        /** A lab.json from before the write was recorded has none: NaN, not 0. */
        public Sync {
            writeMs = writeMs == null ? Double.NaN : writeMs;
        }

        public Sync(final String dataplane, final int services, final String kind, final double commandMs, final double servingMs) {
            this(dataplane, services, kind, commandMs, servingMs, Double.NaN);
        }

        /** From the write's answer to serving: the dataplane's own share, without the API server's (or the file system's). */
        public double servingAfterWriteMs() {
            return servingMs - writeMs;
        }
    }

    public LabResults {
        loads = new ArrayList<>(loads);
        syncs = new ArrayList<>(syncs);
        agentCpu = new ArrayList<>(agentCpu == null ? List.of() : agentCpu);
    }
}
