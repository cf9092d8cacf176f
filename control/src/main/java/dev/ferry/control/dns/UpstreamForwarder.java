package dev.ferry.control.dns;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Sends the questions outside the cluster domain to the upstream resolver and hands back its
 * answer, as CoreDNS's {@code forward . /etc/resolv.conf} does. Each forwarded query is a
 * blocking exchange on a virtual thread with a socket of its own: a fresh source port and a
 * random ID per query (what makes a spoofed answer hard to land, RFC 5452), no shared state
 * between queries, and no thread of the event loop ever waits for the upstream. UDP is tried
 * twice ({@value #UDP_ATTEMPT_TIMEOUT_MS} ms each) for a UDP client, TCP once for a TCP client
 * (whose answer may be larger than a datagram). At most {@value #MAX_IN_FLIGHT} queries wait
 * at once; more are refused at once (the server answers SERVFAIL and counts them).
 *
 * <p>The query sent upstream is the client's question, rebuilt (not its bytes relayed): an ID of
 * our own, recursion desired, and an EDNS OPT with the client's UDP size when it sent one.
 */
final class UpstreamForwarder implements AutoCloseable {
    static final int MAX_IN_FLIGHT = 1024;
    static final int UDP_ATTEMPT_TIMEOUT_MS = 1500;
    static final int TCP_TIMEOUT_MS = 3000;
    private static final int MAX_MESSAGE = 65535;

    private final InetSocketAddress upstream;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("ferry-dns-forward").factory());

    UpstreamForwarder(final InetSocketAddress upstream) {
        this.upstream = upstream;
    }

    InetSocketAddress upstream() {
        return upstream;
    }

    /**
     * Asks the upstream {@code type}/{@code dnsClass} for {@code name}; {@code done} gets the
     * answer with the client's {@code clientId} written in, or null when the upstream did not
     * answer (or answered something else), on a forwarder thread.
     *
     * @param udpPayloadSize the client's EDNS UDP size, 0 when it sent no OPT record
     * @return false when too many queries are waiting: nothing was sent and {@code done} is not called
     */
    boolean forward(final String name, final int type, final int dnsClass, final int udpPayloadSize, final boolean tcp,
                    final int clientId, final Consumer<byte[]> done) {
        if (!inFlight.tryAcquire()) {
            return false;
        }
        try {
            threads.execute(() -> {
                try {
                    final int id = ThreadLocalRandom.current().nextInt(0x10000);
                    final byte[] query = query(id, name, type, dnsClass, udpPayloadSize);
                    final byte[] answer = tcp ? exchangeTcp(query) : exchangeUdp(query, udpPayloadSize);
                    if (answer == null || !answers(answer, id)) {
                        done.accept(null);
                        return;
                    }
                    answer[0] = (byte) (clientId >>> 8);
                    answer[1] = (byte) clientId;
                    done.accept(answer);
                } finally {
                    inFlight.release();
                }
            });
            return true;
        } catch (final java.util.concurrent.RejectedExecutionException e) {
            inFlight.release(); // closing
            return false;
        }
    }

    private byte[] exchangeUdp(final byte[] query, final int udpPayloadSize) {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(upstream); // only the upstream's datagrams are received
            socket.setSoTimeout(UDP_ATTEMPT_TIMEOUT_MS);
            final byte[] buffer = new byte[Math.max(512, udpPayloadSize)];
            for (int attempt = 0; attempt < 2; attempt++) {
                socket.send(new DatagramPacket(query, query.length));
                try {
                    final DatagramPacket received = new DatagramPacket(buffer, buffer.length);
                    socket.receive(received);
                    return java.util.Arrays.copyOf(buffer, received.getLength());
                } catch (final SocketTimeoutException e) {
                    // once more, then give up
                }
            }
            return null;
        } catch (final IOException e) {
            return null;
        }
    }

    private byte[] exchangeTcp(final byte[] query) {
        try (Socket socket = new Socket()) {
            socket.connect(upstream, TCP_TIMEOUT_MS);
            socket.setSoTimeout(TCP_TIMEOUT_MS);
            final DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeShort(query.length); // RFC 1035 section 4.2.2: a two-byte length before each message
            out.write(query);
            out.flush();
            final DataInputStream in = new DataInputStream(socket.getInputStream());
            final int length = in.readUnsignedShort();
            if (length > MAX_MESSAGE) {
                return null;
            }
            return in.readNBytes(length);
        } catch (final IOException e) {
            return null;
        }
    }

    /** True when {@code message} is a response (QR set) to our query {@code id}. */
    private static boolean answers(final byte[] message, final int id) {
        return message.length >= 12 && ((message[0] & 0xFF) << 8 | message[1] & 0xFF) == id && (message[2] & 0x80) != 0;
    }

    /** A standard query: header with RD, one question, and an OPT record when {@code udpPayloadSize} is given. */
    static byte[] query(final int id, final String name, final int type, final int dnsClass, final int udpPayloadSize) {
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(64);
        final int[] header = {id, 0x0100, 1, 0, 0, udpPayloadSize > 0 ? 1 : 0};
        for (final int value : header) {
            out.write(value >>> 8 & 0xFF);
            out.write(value & 0xFF);
        }
        final String normalized = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (!normalized.isEmpty()) {
            for (final String label : normalized.split("\\.")) {
                final byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                out.write(bytes.length);
                out.writeBytes(bytes);
            }
        }
        out.write(0);
        for (final int value : new int[] {type, dnsClass}) {
            out.write(value >>> 8 & 0xFF);
            out.write(value & 0xFF);
        }
        if (udpPayloadSize > 0) {
            // OPT (RFC 6891): root name, type 41, class = UDP payload size, TTL 0 (version 0, no flags), no options
            out.writeBytes(new byte[] {0, 0, Rr.OPT, (byte) (udpPayloadSize >>> 8), (byte) udpPayloadSize, 0, 0, 0, 0, 0, 0});
        }
        return out.toByteArray();
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
