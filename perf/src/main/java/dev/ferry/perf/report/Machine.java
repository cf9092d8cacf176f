package dev.ferry.perf.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The machine a report's figures came from: CPU model, cores, memory, kernel and JVM, read
 * from /proc and the running JVM. Every report states it, because no figure means anything
 * without it.
 */
public record Machine(String cpu, int cores, long memoryMiB, String kernel, String jvm) {

    /** This machine. */
    public static Machine current() {
        return new Machine(readCpuModel(), Runtime.getRuntime().availableProcessors(), readMemoryMiB(), read("/proc/sys/kernel/osrelease"),
            System.getProperty("java.vm.name", "?") + " " + System.getProperty("java.runtime.version", System.getProperty("java.version", "?")));
    }

    /** "Intel(R) Xeon(R) ... , 2 cores, 23.5 GiB, Linux 6.1.0, OpenJDK 64-Bit Server VM 25+36". */
    public String describe() {
        return cpu + ", " + cores + (cores == 1 ? " core" : " cores") + ", " + String.format("%.1f GiB", memoryMiB / 1024.0)
            + " memory, Linux " + kernel + ", " + jvm;
    }

    private static String readCpuModel() {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (final IOException e) {
            // fall through
        }
        return System.getProperty("os.arch", "unknown CPU");
    }

    private static long readMemoryMiB() {
        try {
            final List<String> lines = Files.readAllLines(Path.of("/proc/meminfo"));
            for (final String line : lines) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (final IOException | NumberFormatException e) {
            // fall through
        }
        return Runtime.getRuntime().maxMemory() / (1024 * 1024);
    }

    private static String read(final String file) {
        try {
            return Files.readString(Path.of(file)).strip();
        } catch (final IOException e) {
            return System.getProperty("os.version", "?");
        }
    }
}
