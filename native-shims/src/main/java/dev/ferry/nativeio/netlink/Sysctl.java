package dev.ferry.nativeio.netlink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads and writes sysctls through {@code /proc/sys}. The {@code net.*} keys belong to the
 * network namespace of the calling thread (the kernel resolves them per task), so call these
 * on a thread inside the namespace you mean (see {@code NetworkNamespace}).
 *
 * <p>Keys are dotted ({@code net.ipv4.ip_forward}) or slashed ({@code net/ipv4/conf/eth0.100/rp_filter});
 * use the slashed form when an interface name has a dot.
 */
public final class Sysctl {
    public static final Path ROOT = Path.of("/proc/sys");

    private Sysctl() {
    }

    static Path path(String key) {
        String rel = key.contains("/") ? key : key.replace('.', '/');
        Path p = ROOT.resolve(rel).normalize();
        if (!p.startsWith(ROOT)) {
            throw new IllegalArgumentException("sysctl key '" + key + "' is outside /proc/sys");
        }
        return p;
    }

    /** Writes {@code value} to sysctl {@code key}. */
    public static void write(String key, String value) {
        Path p = path(key);
        try {
            Files.writeString(p, value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set sysctl " + key + "=" + value + " (" + p + "): " + e.getMessage(), e);
        }
    }

    /** The value of sysctl {@code key}, trimmed. */
    public static String read(String key) {
        Path p = path(key);
        try {
            return Files.readString(p).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read sysctl " + key + " (" + p + "): " + e.getMessage(), e);
        }
    }
}
