package dev.ferry.control.testing;

import dev.ferry.nativeio.netns.NetworkNamespace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code ferry agent} process inside a namespace, started from the test class path
 * with the JVM flags the launcher uses, its output in a log file. {@link #stop()} sends
 * SIGTERM, as systemd would.
 */
public final class AgentProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final String namespace;

    private AgentProcess(final Process process, final Path log, final String namespace) {
        this.process = process;
        this.log = log;
        this.namespace = namespace;
    }

    /** Starts {@code ferry agent ARGS} in {@code namespace}; does not wait for it to be ready. */
    public static AgentProcess start(final String namespace, final Path log, final String... agentArgs) throws IOException {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED", "--add-opens", "java.base/java.nio=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), "dev.ferry.control.cli.FerryCli", "agent"));
        command.addAll(List.of(agentArgs));
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new AgentProcess(p, log, namespace);
    }

    /** Waits until /healthz answers 200 inside the namespace, or the process dies, or the bound passes. */
    public void awaitHealthy(final long timeoutMs) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("agent exited with " + process.exitValue() + ":\n" + log());
            }
            final String status = NetworkNamespace.call(namespace, () -> Http.get("127.0.0.1", 10256, "/healthz", 1000).status());
            if ("200".equals(status)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("agent not healthy within " + timeoutMs + " ms:\n" + log());
    }

    /** SIGTERM, then waits for the exit; returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("agent did not stop within 30 s of SIGTERM:\n" + log());
        }
        return process.exitValue();
    }

    /** SIGKILL, as a crash or an OOM kill would, then waits for the exit. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("agent did not die within 30 s of SIGKILL");
        }
    }

    /** Runs {@code ferry agent --cleanup --run-dir RUN_DIR} in {@code namespace}; fails the test unless it exits 0. */
    public static void cleanup(final String namespace, final Path log, final Path runDir) throws Exception {
        try (AgentProcess cleanup = start(namespace, log, "--cleanup", "--run-dir", runDir.toString())) {
            final int exit = cleanup.awaitExit(60_000);
            if (exit != 0) {
                throw new AssertionError("ferry agent --cleanup exited " + exit + ":\n" + cleanup.log());
            }
        }
    }

    /** Waits for the process to end by itself (e.g. refusing to start); returns the exit code. */
    public int awaitExit(final long timeoutMs) throws InterruptedException {
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("agent still running after " + timeoutMs + " ms:\n" + log());
        }
        return process.exitValue();
    }

    /** The agent JVM's process id ({@code ip netns exec} execs java in place). */
    public long pid() {
        return process.pid();
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (final IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
