package dev.ferry.control.lab;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the privileged lab tests share: the gate (they must run, so missing root or a missing
 * tool fails them with what to do, never skips them), and the state directory under target/.
 */
final class LabTestSupport {
    private LabTestSupport() {
    }

    /** Fails unless the test runs as root with ip, setsid and bash on the PATH. */
    static void requirePrivileges() {
        try {
            Shell.requireRoot("the lab tests");
            Shell.requireTools("ip", "setsid", "bash");
        } catch (final LabException e) {
            fail("privileged lab test cannot run: " + e.getMessage() + ". Run the tests as root (CI: bash .ci/run as root).");
        }
    }

    /**
     * Namespaces of test labs are {@code ferry-labtest-PID-...}: a user's {@code ferry lab}
     * (ferry-lab-*) and another JVM's tests are never touched, and labs of dead test JVMs are
     * removed on first use.
     */
    static final String TEST_PREFIX = "ferry-labtest-";

    static String prefix() {
        return TEST_PREFIX + ProcessHandle.current().pid() + "-";
    }

    /** A lab whose state lives in target/lab-state/NAME, so logs of a failed run stay for reading. */
    static Lab lab(final String name) {
        return lab(name, null);
    }

    static Lab lab(final String name, final Path scripts) {
        removeStaleTestLabs();
        return new Lab(new LabState(Path.of("target", "lab-state", name).toAbsolutePath()), java(), System.out,
            scripts, prefix());
    }

    private static LabJava snapshot;

    /**
     * The test classpath, copied once per test JVM under target/lab-classpath: the lab's
     * agents and pod servers run from the copy, so that a build running meanwhile in the same
     * tree (rewriting target/classes) cannot pull classes from under them.
     */
    static synchronized LabJava java() {
        if (snapshot != null) {
            return snapshot;
        }
        final LabJava current = LabJava.current();
        final Path root = Path.of("target", "lab-classpath").toAbsolutePath();
        try {
            Lab.deleteRecursively(root);
            final List<String> copied = new ArrayList<>();
            int index = 0;
            for (final String entry : current.classpath().split(File.pathSeparator)) {
                final Path source = Path.of(entry);
                if (!Files.exists(source)) {
                    continue;
                }
                final Path target = root.resolve(index++ + "-" + source.getFileName());
                if (Files.isDirectory(source)) {
                    try (var walk = Files.walk(source)) {
                        for (final Path p : walk.toList()) {
                            final Path to = target.resolve(source.relativize(p).toString());
                            if (Files.isDirectory(p)) {
                                Files.createDirectories(to);
                            } else {
                                Files.copy(p, to);
                            }
                        }
                    }
                } else {
                    Files.createDirectories(root);
                    Files.copy(source, target);
                }
                copied.add(target.toString());
            }
            snapshot = new LabJava(current.javaBinary(), String.join(File.pathSeparator, copied));
        } catch (final IOException e) {
            throw new LabException("cannot copy the test classpath to " + root + ": " + e.getMessage(), e);
        }
        return snapshot;
    }

    /** Takes down test labs whose JVM is gone (a killed run), by their own prefix. */
    static synchronized void removeStaleTestLabs() {
        final Set<String> prefixes = new TreeSet<>();
        for (final String ns : LabNetwork.existingNamespaces(TEST_PREFIX)) {
            final String rest = ns.substring(TEST_PREFIX.length());
            final int dash = rest.indexOf('-');
            if (dash <= 0) {
                continue;
            }
            try {
                final long pid = Long.parseLong(rest.substring(0, dash));
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                    prefixes.add(TEST_PREFIX + pid + "-");
                }
            } catch (final NumberFormatException e) {
                // not one of ours
            }
        }
        for (final String stale : prefixes) {
            new Lab(new LabState(Path.of("target", "lab-state", "stale").toAbsolutePath()), java(), System.out,
                null, stale).down(true);
        }
    }

    /** Root namespace addresses, routes and rules: the lab must never change them. */
    static List<String> rootNetworkState() {
        return List.of(Shell.ip("-o", "-4", "addr", "show"), Shell.ip("route", "show", "table", "all"), Shell.ip("rule", "show"));
    }
}
