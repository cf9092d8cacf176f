package dev.ferry.control.lab;

import dev.ferry.control.cli.FerryJvm;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How the lab starts Ferry's own JVMs (agents, pod servers, the readiness controller) inside
 * its namespaces: this JVM's java binary, the classpath this JVM runs from (ferry-lab.jar, or
 * the test classpath under Maven), and the flags the dataplane needs ({@link FerryJvm}). Main
 * classes are named explicitly: the lab's helpers run {@link #LAB_MAIN}, agents {@link #FERRY_MAIN}.
 */
public record LabJava(String javaBinary, String classpath) {
    /** Main class of {@code ferry} (the agent is its {@code agent} subcommand). */
    public static final String FERRY_MAIN = FerryJvm.FERRY_MAIN;
    /** Main class of {@code ferry lab}, for the lab's own helper processes. */
    public static final String LAB_MAIN = LabCommand.class.getName();
    /** The options every Ferry JVM needs: {@link FerryJvm#FLAGS}. */
    public static final List<String> JVM_FLAGS = FerryJvm.FLAGS;
    /** Small helper JVMs: a pod server needs little heap, and eight of them share two cores. */
    public static final List<String> SMALL_JVM = List.of("-Xmx64m", "-Xss512k", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1");

    /** The java and classpath of the running JVM. */
    public static LabJava current() {
        return new LabJava(FerryJvm.javaBinary(), FerryJvm.classpath());
    }

    /** {@code java FLAGS [small] -cp CP MAIN ARGS...} */
    public List<String> command(final boolean small, final String mainClass, final List<String> args) {
        final List<String> command = new ArrayList<>();
        command.add(javaBinary);
        command.addAll(JVM_FLAGS);
        if (small) {
            command.addAll(SMALL_JVM);
        } else {
            command.addAll(aotCacheFlags(classpath));
        }
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.addAll(args);
        return command;
    }

    /**
     * The flags that start a JVM from the ahead-of-time cache the launcher records beside a jar
     * (ferry-lab.jar: ferry-lab.aot, see {@code ./ferry}), when the classpath is that one jar and the
     * cache is newer than it; else none. Only for full-size JVMs: the small ones' GC flags differ
     * from the recording's, and the JVM would refuse the cache anyway.
     */
    static List<String> aotCacheFlags(final String classpath) {
        if (!classpath.endsWith(".jar") || classpath.contains(java.io.File.pathSeparator)) {
            return List.of();
        }
        final Path jar = Path.of(classpath);
        final Path cache = jar.resolveSibling(jar.getFileName().toString().replaceFirst("\\.jar$", ".aot"));
        try {
            if (Files.isRegularFile(cache) && Files.getLastModifiedTime(cache).compareTo(Files.getLastModifiedTime(jar)) > 0) {
                return List.of("-XX:AOTCache=" + cache, "-Xlog:aot=off");
            }
        } catch (final IOException e) {
            return List.of(); // no cache: the JVM starts as it would without one
        }
        return List.of();
    }

    /** Where this code was loaded from: ferry-lab.jar or a classes directory. */
    public static Path codeSource() {
        try {
            return Path.of(LabJava.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (final URISyntaxException | NullPointerException e) {
            return Path.of(".").toAbsolutePath();
        }
    }

    /**
     * The provisioning scripts (vagrant/provision, shared with the Vagrant lab): the
     * FERRY_LAB_SCRIPTS environment variable, else found by walking up from ferry-lab.jar
     * (control/lab/target/ferry-lab.jar in a checkout) and from the working directory.
     */
    public static Path scriptsDir() {
        final String fromEnv = System.getenv("FERRY_LAB_SCRIPTS");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return requireScripts(Path.of(fromEnv));
        }
        for (final Path start : List.of(codeSource(), Path.of("").toAbsolutePath())) {
            final Optional<Path> found = findUp(start);
            if (found.isPresent()) {
                return found.get();
            }
        }
        throw new LabException("cannot find the lab's provisioning scripts (vagrant/provision/pod.sh) above "
            + codeSource() + " or the working directory: run ferry from its checkout, or set FERRY_LAB_SCRIPTS to the "
            + "vagrant/provision directory");
    }

    private static Optional<Path> findUp(final Path start) {
        for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            final Path candidate = dir.resolve("vagrant").resolve("provision");
            if (Files.isRegularFile(candidate.resolve("pod.sh"))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static Path requireScripts(final Path dir) {
        if (!Files.isRegularFile(dir.resolve("pod.sh"))) {
            throw new LabException("FERRY_LAB_SCRIPTS=" + dir + " does not hold pod.sh (it should be vagrant/provision of a Ferry checkout)");
        }
        return dir;
    }

    /** The script {@code name} in {@link #scriptsDir()}, run through bash (no exec bit needed). */
    public static List<String> script(final Path scriptsDir, final String name, final String... args) {
        final List<String> command = new ArrayList<>(List.of("bash", scriptsDir.resolve(name).toString()));
        command.addAll(List.of(args));
        return command;
    }
}
