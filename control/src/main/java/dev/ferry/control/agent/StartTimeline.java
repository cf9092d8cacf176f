package dev.ferry.control.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Where an agent's start spent its time, phase by phase, from the process's own start (so the
 * JVM's start-up and the command line are in the first phase): the agent logs it once it serves,
 * which is how a slow cold start is taken apart on a node. Used by the starting thread only.
 */
final class StartTimeline {
    private record Phase(String name, long endNs) {
    }

    private final long processStartNs;
    private final List<Phase> phases = new ArrayList<>();

    /** A timeline whose first phase began when this process started (from /proc), or now when that is unknown. */
    StartTimeline() {
        final long nowNs = System.nanoTime();
        final long sinceStartNs = ProcessHandle.current().info().startInstant()
            .map(start -> Duration.between(start, Instant.now()).toNanos()).orElse(0L);
        this.processStartNs = nowNs - Math.max(0, sinceStartNs);
        phases.add(new Phase("JVM and command line", nowNs));
    }

    /** Ends the phase called {@code name} now; the next one starts. */
    void phaseDone(final String name) {
        phases.add(new Phase(name, System.nanoTime()));
    }

    /** Milliseconds from the process's start to the last phase's end. */
    long totalMs() {
        return (phases.getLast().endNs() - processStartNs) / 1_000_000;
    }

    /** "started in 812 ms from the process's start: JVM and command line 420 ms, host routing 35 ms, ..." */
    String describe() {
        final StringBuilder text = new StringBuilder("started in ").append(totalMs()).append(" ms from the process's start: ");
        long fromNs = processStartNs;
        for (int i = 0; i < phases.size(); i++) {
            final Phase phase = phases.get(i);
            text.append(i == 0 ? "" : ", ").append(phase.name()).append(' ').append((phase.endNs() - fromNs) / 1_000_000).append(" ms");
            fromNs = phase.endNs();
        }
        return text.toString();
    }
}
