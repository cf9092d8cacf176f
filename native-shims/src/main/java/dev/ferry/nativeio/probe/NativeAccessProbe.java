package dev.ferry.nativeio.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Says, before anything is opened, whether this process can do native packet I/O, and if not
 * exactly what is missing: a Linux x86-64/aarch64 host, native access for this module
 * ({@code --enable-native-access}), {@code /dev/net/tun}, and the effective capabilities
 * {@code CAP_NET_ADMIN} (devices, netlink), {@code CAP_NET_RAW} (AF_PACKET) and {@code CAP_SYS_ADMIN}
 * (network namespaces) read from {@code /proc/self/status}.
 */
public final class NativeAccessProbe {
    public static final int CAP_NET_ADMIN = 12;
    public static final int CAP_NET_RAW = 13;
    public static final int CAP_SYS_ADMIN = 21;

    /** What a caller needs. */
    public enum Need {
        /** The TUN port type: /dev/net/tun and CAP_NET_ADMIN. */
        TUN,
        /** The packet port type: CAP_NET_RAW (socket) and CAP_NET_ADMIN (devices). */
        PACKET,
        /** rtnetlink changes and sysctls: CAP_NET_ADMIN. */
        NETLINK,
        /** Creating and entering network namespaces (unshare, setns): CAP_SYS_ADMIN. */
        NAMESPACE
    }

    /** The outcome: empty {@code missing} means available. */
    public record Availability(List<String> missing) {
        public boolean available() {
            return missing.isEmpty();
        }

        /** One line for logs and test failures. */
        public String describe() {
            return available() ? "native packet I/O available"
                    : "native packet I/O unavailable: " + String.join("; ", missing);
        }

        /** Throws {@link IllegalStateException} with {@link #describe()} when something is missing. */
        public Availability require() {
            if (!available()) {
                throw new IllegalStateException(describe());
            }
            return this;
        }
    }

    private NativeAccessProbe() {
    }

    /** Checks everything {@code needs} call for. */
    public static Availability check(Need... needs) {
        List<String> missing = new ArrayList<>();
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).contains("linux")) {
            missing.add("a Linux host (this is " + os + "): TUN, AF_PACKET and rtnetlink are Linux interfaces");
            return new Availability(List.copyOf(missing));
        }
        String arch = System.getProperty("os.arch", "");
        if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
            missing.add("an x86-64 or aarch64 JVM (this is " + arch + "; struct layouts are only checked there)");
        }
        Module module = NativeAccessProbe.class.getModule();
        if (!module.isNativeAccessEnabled()) {
            missing.add("native access for " + (module.isNamed() ? module.getName() : "the class path")
                    + ": start java with --enable-native-access=" + (module.isNamed() ? module.getName() : "ALL-UNNAMED"));
        }
        long capEff = effectiveCapabilities();
        boolean wantAdmin = false;
        boolean wantRaw = false;
        boolean wantSysAdmin = false;
        for (Need need : needs) {
            switch (need) {
                case TUN -> {
                    wantAdmin = true;
                    Path tun = Path.of("/dev/net/tun");
                    if (!Files.exists(tun)) {
                        missing.add("/dev/net/tun (load the tun module: modprobe tun; in a container pass --device /dev/net/tun)");
                    } else if (!Files.isReadable(tun) || !Files.isWritable(tun)) {
                        missing.add("read/write access to /dev/net/tun (" + describeMode(tun) + "; udev makes it 0666 on"
                                + " mainstream distributions, which a non-root agent needs; or run as root)");
                    }
                }
                case PACKET -> {
                    wantAdmin = true;
                    wantRaw = true;
                }
                case NETLINK -> wantAdmin = true;
                case NAMESPACE -> wantSysAdmin = true;
            }
        }
        if (capEff < 0) {
            missing.add("CapEff in /proc/self/status (cannot read the process's capabilities)");
        } else {
            String caps = String.format("effective capabilities 0x%016x", capEff);
            if (wantAdmin && (capEff & (1L << CAP_NET_ADMIN)) == 0) {
                missing.add("CAP_NET_ADMIN (" + caps + "): run as root or grant it, e.g. setcap cap_net_admin,cap_net_raw+ep on the java binary");
            }
            if (wantRaw && (capEff & (1L << CAP_NET_RAW)) == 0) {
                missing.add("CAP_NET_RAW (" + caps + "): needed for AF_PACKET sockets");
            }
            if (wantSysAdmin && (capEff & (1L << CAP_SYS_ADMIN)) == 0) {
                missing.add("CAP_SYS_ADMIN (" + caps + "): needed to create and enter a network namespace"
                        + " (with systemd: the packet-port.conf drop-in)");
            }
        }
        return new Availability(List.copyOf(missing));
    }

    private static String describeMode(Path path) {
        try {
            var attributes = Files.readAttributes(path, java.nio.file.attribute.PosixFileAttributes.class);
            return "mode " + java.nio.file.attribute.PosixFilePermissions.toString(attributes.permissions())
                    + ", owner " + attributes.owner().getName() + ":" + attributes.group().getName();
        } catch (IOException | UnsupportedOperationException e) {
            return "mode unreadable: " + e.getMessage();
        }
    }

    /** The CapEff bit set of this process, or -1 when it cannot be read. */
    public static long effectiveCapabilities() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
