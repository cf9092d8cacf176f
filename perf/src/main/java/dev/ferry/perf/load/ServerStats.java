package dev.ferry.perf.load;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The load server's counters as its stats port reports them:
 * {@code udp_packets=N udp_bytes=N bulk_bytes=N rr=N crr=N t_ns=N}, where {@code t_ns} is the
 * server's {@link System#nanoTime()} when it took the snapshot (CLOCK_MONOTONIC, the same clock
 * in every process of the machine), so that a window's length is the server's own and a slow
 * stats connection does not stretch it.
 */
public record ServerStats(long udpPackets, long udpBytes, long bulkBytes, long rr, long crr, long timeNs) {
    public static final ServerStats ZERO = new ServerStats(0, 0, 0, 0, 0, 0);

    public String line() {
        return "udp_packets=" + udpPackets + " udp_bytes=" + udpBytes + " bulk_bytes=" + bulkBytes + " rr=" + rr + " crr=" + crr
            + " t_ns=" + timeNs;
    }

    public static ServerStats parse(final String line) {
        final Map<String, Long> v = new HashMap<>();
        for (final String field : line.strip().split("\\s+")) {
            final int eq = field.indexOf('=');
            if (eq > 0) {
                v.put(field.substring(0, eq), Long.parseLong(field.substring(eq + 1)));
            }
        }
        if (!v.containsKey("udp_packets")) {
            throw new IllegalArgumentException("not a load server stats line: '" + line.strip() + "'");
        }
        return new ServerStats(v.get("udp_packets"), v.getOrDefault("udp_bytes", 0L), v.getOrDefault("bulk_bytes", 0L),
            v.getOrDefault("rr", 0L), v.getOrDefault("crr", 0L), v.getOrDefault("t_ns", 0L));
    }

    /** What happened between {@code before} and this snapshot of the same server; {@code timeNs} becomes the window's length. */
    public ServerStats since(final ServerStats before) {
        return new ServerStats(udpPackets - before.udpPackets, udpBytes - before.udpBytes, bulkBytes - before.bulkBytes,
            rr - before.rr, crr - before.crr, timeNs - before.timeNs);
    }

    /** Reads one server's stats ({@code ip}:{@link LoadPorts#STATS}) over a plain socket in the caller's namespace. */
    public static ServerStats query(final String serverIp) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(serverIp, LoadPorts.STATS), 5000);
            socket.setSoTimeout(5000);
            try (InputStream in = socket.getInputStream()) {
                return parse(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
            }
        }
    }

    /** Each server's stats, in order. */
    public static List<ServerStats> queryAll(final List<String> serverIps) throws IOException {
        final java.util.ArrayList<ServerStats> all = new java.util.ArrayList<>();
        for (final String ip : serverIps) {
            all.add(query(ip));
        }
        return all;
    }
}
