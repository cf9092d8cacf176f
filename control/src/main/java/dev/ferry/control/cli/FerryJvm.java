package dev.ferry.control.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * How to start another Ferry JVM like this one (the lab's agents and helpers, the benchmarks,
 * the tests' agent processes): the running JVM's java binary and classpath, the main class of
 * {@code ferry}, and the flags every Ferry JVM needs.
 */
public final class FerryJvm {
    /** Main class of {@code ferry} (the agent is its {@code agent} subcommand). */
    public static final String FERRY_MAIN = FerryCli.class.getName();
    /**
     * The options every Ferry JVM needs (FFM and Agrona's off-heap access), from
     * {@code control/src/main/dist/jvm.options}, the one list the launchers, Maven's test forks
     * and the package use too; the build copies it into the jar under dev/ferry/control.
     */
    public static final List<String> FLAGS = jvmOptions();

    private FerryJvm() {
    }

    /** The java binary of the running JVM. */
    public static String javaBinary() {
        return ProcessHandle.current().info().command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The classpath of the running JVM (Surefire runs tests from a manifest-only jar and names the real one). */
    public static String classpath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    /** The options of jvm.options: one per line, without the comment lines and blank lines. */
    static List<String> jvmOptions() {
        try (InputStream in = FerryJvm.class.getResourceAsStream("/dev/ferry/control/jvm.options")) {
            if (in == null) {
                throw new IllegalStateException("jvm.options is not on the class path under dev/ferry/control "
                    + "(the build copies control/src/main/dist/jvm.options there)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read jvm.options from the class path", e);
        }
    }
}
