package dev.ferry.control.aot;

import dev.ferry.control.cli.FerryCli;
import dev.ferry.control.cli.FerryJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up work the launchers record an ahead-of-time cache from. */
class AotTrainingTest {
    @TempDir
    Path dir;

    @Test
    void shouldLoadEveryGeneratedServiceTakeEveryReloadAndTranslate() throws Exception {
        final AotTraining.Result result = new AotTraining(200, 6).run();
        assertEquals(201, result.servicePortsFirstLoad(), "200 fillers and the flapping service");
        assertEquals(6, result.reloads());
        assertTrue(result.packetsTranslated() > 0, "packets went through the pipeline: " + result);
    }

    @Test
    void shouldRefuseNonsenseCountsAsBadUsage() {
        final StringWriter err = new StringWriter();
        final int exit = FerryCli.commandLine().setErr(new PrintWriter(err)).execute("aot-training", "--services", "0");
        assertEquals(2, exit, err.toString());
        assertTrue(err.toString().contains("--services must be at least 1"), err.toString());
    }

    /**
     * The real thing: a JVM records a cache from the training, and a second JVM maps it (it logs
     * what it loaded from it). Class directories cannot be cached, so both run from a jar of this
     * build's classes and the test classpath's jars.
     */
    @Test
    void shouldRecordACacheThatTheNextJvmStartsFrom() throws Exception {
        final String classpath = jarClasspath();
        final Path cache = dir.resolve("ferry.aot");
        final Process record = java(classpath, List.of("-XX:AOTCacheOutput=" + cache), "aot-training", "--services", "300", "--changes", "4");
        final String recordLog = output(record);
        assertEquals(0, record.exitValue(), recordLog);
        assertTrue(Files.size(cache) > 1_000_000, "a cache of " + Files.size(cache) + " bytes: " + recordLog);

        final Process start = java(classpath, List.of("-XX:AOTCache=" + cache, "-XX:AOTMode=on", "-Xlog:class+load=info"), "--version");
        final String startLog = output(start);
        assertEquals(0, start.exitValue(), "AOTMode=on fails the JVM when it cannot use the cache: " + startLog);
        assertTrue(startLog.lines().anyMatch(l -> l.contains("dev.ferry.control.cli.FerryCli") && l.contains("shared")),
            "FerryCli was loaded from the cache: " + startLog.lines().filter(l -> l.contains("FerryCli")).toList());
    }

    /** {@code java FLAGS jvmOptions -cp classpath FerryCli cliArgs}. */
    private Process java(final String classpath, final List<String> jvmOptions, final String... cliArgs) throws Exception {
        final List<String> command = new ArrayList<>();
        command.add(FerryJvm.javaBinary());
        command.addAll(FerryJvm.FLAGS);
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classpath, FerryJvm.FERRY_MAIN));
        command.addAll(List.of(cliArgs));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static String output(final Process process) throws Exception {
        final String out = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the JVM did not exit: " + out);
        return out;
    }

    /** This build's classes as one jar, then every jar of the test classpath (an AOT cache takes jars only). */
    private String jarClasspath() throws Exception {
        final Path classes = Path.of("target/classes");
        final Path jar = dir.resolve("control-classes.jar");
        final Process jarTool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jar").toString(),
            "--create", "--file", jar.toString(), "-C", classes.toString(), ".").redirectErrorStream(true).start();
        final String out = output(jarTool);
        assertEquals(0, jarTool.exitValue(), out);
        final List<String> entries = new ArrayList<>();
        entries.add(jar.toString());
        for (final String entry : FerryJvm.classpath().split(java.io.File.pathSeparator)) {
            if (entry.endsWith(".jar")) {
                entries.add(entry);
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }
}
