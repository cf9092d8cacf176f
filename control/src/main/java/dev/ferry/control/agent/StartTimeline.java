package dev.ferry.control.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** The kernel's USER_HZ, the unit of /proc's times (100 on every Linux ABI Ferry runs on). */
    private static final double CLOCK_TICKS_PER_S = 100;

    private final long processStartNs;
    private final List<Phase> phases = new ArrayList<>();

    /** A timeline whose first phase began when this process started (from /proc), or now when that is unknown. */
    StartTimeline() {
        final long nowNs = System.nanoTime();
        this.processStartNs = nowNs - Math.max(0, sinceProcessStartNs());
        phases.add(new Phase("JVM and command line", nowNs));
    }

    /**
     * How long ago this process started: /proc/uptime less /proc/self/stat's starttime, both in
     * hundredths of a second (ProcessHandle's start instant goes through the boot time in whole
     * seconds and the wall clock: up to a second off); 0 when /proc cannot say.
     */
    private static long sinceProcessStartNs() {
        try {
            final String stat = Files.readString(Path.of("/proc/self/stat"));
            // the command name (field 2) is in parentheses and may hold spaces: count from after it; starttime is field 22
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            final double startedS = Long.parseLong(fields[19]) / CLOCK_TICKS_PER_S;
            final double uptimeS = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            return (long) ((uptimeS - startedS) * 1e9);
        } catch (final IOException | RuntimeException e) {
            return 0;
        }
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
