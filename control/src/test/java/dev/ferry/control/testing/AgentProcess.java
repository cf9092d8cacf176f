package dev.ferry.control.testing;

import dev.ferry.control.cli.FerryJvm;
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
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        command.addAll(agentCommand(System.getProperty("java.class.path"), agentArgs));
        return launch(command, log, namespace);
    }

    /**
     * Starts {@code ferry agent ARGS} in {@code namespace} the way ferry.service does: as
     * {@code user} (not root) with only {@code user.capabilities()} (bounding, inheritable and
     * ambient sets), no new privileges and umask 077. Two things a node has that this machine
     * may not are provided in a private mount namespace, invisible outside the agent: a
     * {@code /dev/net/tun} of mode 0666, as udev makes it on every mainstream distribution,
     * and the class path copied where the user can read it ({@code work}/classpath).
     */
    public static AgentProcess startAs(final AgentUser user, final String namespace, final Path work, final Path log,
                                       final String... agentArgs) throws IOException {
        final Path devDir = Files.createDirectories(work.resolve("dev"));
        final String script = """
            set -e
            mount -t tmpfs -o mode=0755,size=64k ferry-test-dev "$1"
            mknod -m 0666 "$1/tun" c 10 200
            mount --bind "$1/tun" /dev/net/tun
            umask 077
            ns="$2"; uid="$3"; caps="$4"; shift 4
            exec ip netns exec "$ns" setpriv --reuid="$uid" --regid="$uid" --clear-groups --no-new-privs \
              --inh-caps="-all,$caps" --ambient-caps="-all,$caps" --bounding-set="-all,$caps" "$@"
            """;
        final List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", script, "sh", devDir.toString(), namespace, String.valueOf(user.uid()), user.capabilitySpec()));
        command.addAll(agentCommand(readableClassPath(work.resolve("classpath")), agentArgs));
        return launch(command, log, namespace);
    }

    /** A user the agent runs as, and the capabilities it keeps (names as in capabilities(7), without CAP_). */
    public record AgentUser(int uid, List<String> capabilities) {
        /** nobody: an account every Debian system has, owning nothing. */
        public static AgentUser nobody(final String... capabilities) {
            return new AgentUser(65534, List.of(capabilities));
        }

        String capabilitySpec() {
            return capabilities.stream().map(c -> "+" + c.toLowerCase(java.util.Locale.ROOT)).collect(java.util.stream.Collectors.joining(","));
        }
    }

    private static List<String> agentCommand(final String classPath, final String... agentArgs) {
        final List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(FerryJvm.FLAGS);
        command.addAll(List.of("-cp", classPath, FerryJvm.FERRY_MAIN, "agent"));
        command.addAll(List.of(agentArgs));
        return command;
    }

    private static AgentProcess launch(final List<String> command, final Path log, final String namespace) throws IOException {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new AgentProcess(p, log, namespace);
    }

    /**
     * This JVM's class path copied into {@code target} (created world-readable), once: Maven's
     * jars live under root's home, which other users cannot enter.
     */
    private static String readableClassPath(final Path target) throws IOException {
        final List<String> entries = new ArrayList<>();
        final String[] classPath = System.getProperty("java.class.path").split(java.io.File.pathSeparator);
        for (int i = 0; i < classPath.length; i++) {
            final Path source = Path.of(classPath[i]);
            if (!Files.exists(source)) {
                continue;
            }
            final Path copy = target.resolve(i + "-" + source.getFileName());
            if (!Files.exists(copy)) {
                copyTree(source, copy);
            }
            entries.add(copy.toString());
        }
        makeWorldReadable(target);
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static void copyTree(final Path source, final Path copy) throws IOException {
        try (var paths = Files.walk(source)) {
            for (final Path from : (Iterable<Path>) paths::iterator) {
                final Path to = copy.resolve(source.relativize(from).toString());
                if (Files.isDirectory(from)) {
                    Files.createDirectories(to);
                } else {
                    Files.createDirectories(to.getParent());
                    Files.copy(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void makeWorldReadable(final Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (final Path path : (Iterable<Path>) paths::iterator) {
                Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString(
                    Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
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
            cleanup.requireCleanExit();
        }
    }

    /** {@link #cleanup} as {@code user} with only its capabilities: removing what the agent installed needs no more than installing it. */
    public static void cleanupAs(final AgentUser user, final String namespace, final Path work, final Path log, final Path runDir)
        throws Exception {
        try (AgentProcess cleanup = startAs(user, namespace, work, log, "--cleanup", "--run-dir", runDir.toString())) {
            cleanup.requireCleanExit();
        }
    }

    private void requireCleanExit() throws InterruptedException {
        final int exit = awaitExit(60_000);
        if (exit != 0) {
            throw new AssertionError("ferry agent --cleanup exited " + exit + ":\n" + log());
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
