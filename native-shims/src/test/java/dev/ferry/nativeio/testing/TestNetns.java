package dev.ferry.nativeio.testing;

import dev.ferry.nativeio.netns.NetworkNamespace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A network namespace a test creates with {@code ip netns add} and always deletes on close.
 * Names are {@code ferrytest-PID-N}; namespaces left by a dead test JVM are removed on first use.
 * Every command here runs inside a namespace of the test's own: nothing touches the root namespace.
 */
public final class TestNetns implements AutoCloseable {
    public static final String PREFIX = "ferrytest-";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static volatile boolean staleRemoved;

    private final String name;

    private TestNetns(String name) {
        this.name = name;
    }

    /** Creates a fresh namespace with loopback up. */
    public static TestNetns create() {
        removeStale();
        String name = PREFIX + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        run(List.of("ip", "netns", "add", name));
        TestNetns ns = new TestNetns(name);
        try {
            ns.ip("link", "set", "lo", "up");
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    /** Deletes namespaces with our prefix whose creating JVM is gone. */
    public static synchronized void removeStale() {
        if (staleRemoved) {
            return;
        }
        staleRemoved = true;
        Path dir = NetworkNamespace.NAMED_DIR;
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String n = p.getFileName().toString();
                if (!n.startsWith(PREFIX)) {
                    continue;
                }
                String[] parts = n.substring(PREFIX.length()).split("-");
                long pid;
                try {
                    pid = Long.parseLong(parts[0]);
                } catch (NumberFormatException e) {
                    pid = -1;
                }
                if (pid == ProcessHandle.current().pid() || (pid > 0 && ProcessHandle.of(pid).isPresent())) {
                    continue;
                }
                runQuietly(List.of("ip", "netns", "del", n));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + dir, e);
        }
    }

    public String name() {
        return name;
    }

    /** {@code ip -n NAME args...}; returns stdout. */
    public String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    /** Runs a command inside the namespace ({@code ip netns exec}); returns stdout. */
    public String exec(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    /** Starts a command inside the namespace without waiting for it. */
    public Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Writes a sysctl inside this namespace (never the root one): key like net/ipv4/ip_forward. */
    public void sysctl(String key, String value) {
        exec("sh", "-c", "echo " + value + " > /proc/sys/" + key.replace('.', '/'));
    }

    /** Runs {@code task} on a thread inside this namespace (see {@link NetworkNamespace}). */
    public <T> T call(Callable<T> task) {
        return NetworkNamespace.call(name, task);
    }

    public void run(Runnable task) {
        NetworkNamespace.run(name, task);
    }

    /** The interface index of {@code ifname} in this namespace. */
    public int ifindex(String ifname) {
        String out = ip("-o", "link", "show", "dev", ifname);
        return Integer.parseInt(out.substring(0, out.indexOf(':')).trim());
    }

    /** The MAC address of {@code ifname} in this namespace. */
    public String mac(String ifname) {
        String out = ip("-o", "link", "show", "dev", ifname);
        int i = out.indexOf("link/ether ");
        return out.substring(i + 11, i + 28);
    }

    @Override
    public void close() {
        runQuietly(List.of("ip", "netns", "del", name));
    }

    static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", cmd));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("'" + String.join(" ", cmd) + "' exited " + p.exitValue() + ": " + out.trim());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void runQuietly(List<String> cmd) {
        try {
            run(cmd);
        } catch (RuntimeException ignored) {
            // best effort cleanup
        }
    }
}
