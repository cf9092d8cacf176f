package dev.ferry.control.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which lab JVMs start from the launcher's ahead-of-time cache. */
class LabJavaTest {
    @TempDir
    Path dir;

    @Test
    void shouldUseTheCacheBesideTheJarOnlyWhileItIsNewerThanTheJar() throws Exception {
        final Path jar = Files.writeString(dir.resolve("ferry.jar"), "jar");
        final Path cache = Files.writeString(dir.resolve("ferry.aot"), "cache");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(1_000_000));
        Files.setLastModifiedTime(cache, FileTime.fromMillis(2_000_000));
        assertEquals(List.of("-XX:AOTCache=" + cache, "-Xlog:aot=off"), LabJava.aotCacheFlags(jar.toString()));

        Files.setLastModifiedTime(jar, FileTime.fromMillis(3_000_000)); // rebuilt after the recording
        assertEquals(List.of(), LabJava.aotCacheFlags(jar.toString()));
    }

    @Test
    void shouldStartWithoutACacheFromClassDirectoriesSeveralEntriesOrAMissingCache() throws Exception {
        final Path jar = Files.writeString(dir.resolve("ferry-bench.jar"), "jar");
        assertEquals(List.of(), LabJava.aotCacheFlags(jar.toString()), "no ferry-bench.aot yet");
        Files.writeString(dir.resolve("ferry-bench.aot"), "cache");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(1_000_000));
        assertEquals(2, LabJava.aotCacheFlags(jar.toString()).size(), "ferry-bench.jar has ferry-bench.aot");
        assertEquals(List.of(), LabJava.aotCacheFlags(dir.resolve("classes").toString()));
        assertEquals(List.of(), LabJava.aotCacheFlags(jar + File.pathSeparator + dir.resolve("other.jar")));
    }

    @Test
    void shouldGiveTheCacheToFullSizeJvmsOnly() throws Exception {
        final Path jar = Files.writeString(dir.resolve("ferry.jar"), "jar");
        Files.writeString(dir.resolve("ferry.aot"), "cache");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(1_000_000));
        final LabJava java = new LabJava("/usr/bin/java", jar.toString());
        final List<String> agent = java.command(false, LabJava.FERRY_MAIN, List.of("agent"));
        final List<String> podServer = java.command(true, LabJava.LAB_MAIN, List.of("pod-server"));
        assertEquals(1, agent.stream().filter(a -> a.startsWith("-XX:AOTCache=")).count(), agent.toString());
        assertEquals(0, podServer.stream().filter(a -> a.startsWith("-XX:AOTCache=")).count(), podServer.toString());
    }
}
