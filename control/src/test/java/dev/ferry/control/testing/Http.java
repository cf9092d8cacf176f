package dev.ferry.control.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A minimal real client: one TCP connection, an HTTP/1.0 GET, the whole answer. Call it on a
 * thread inside the client's namespace ({@link dev.ferry.nativeio.netns.NetworkNamespace#call}).
 * Connection failures come back as a status ("refused", "timeout"), not exceptions, so tests
 * can assert on them.
 */
public final class Http {
    private Http() {
    }

    /** An answer: the status code (or "refused"/"timeout"/"error: ..."), the body, and how long it took. */
    public record Response(String status, String body, long elapsedMs) {
        /** The pod name the lab's pod server put in its answer, or null. */
        public String pod() {
            return field("pod");
        }

        /** The client address the pod saw (without port), or null. */
        public String seenClient() {
            final String c = field("client");
            return c == null ? null : c.substring(0, c.lastIndexOf(':'));
        }

        private String field(final String name) {
            for (final String part : body.trim().split(" ")) {
                if (part.startsWith(name + "=")) {
                    return part.substring(name.length() + 1);
                }
            }
            return null;
        }
    }

    public static Response get(final String host, final int port, final String path, final int timeoutMs) {
        return get(null, host, port, path, timeoutMs);
    }

    /** As {@link #get(String, int, String, int)}, from local address {@code from} (null: the kernel's choice). */
    public static Response get(final String from, final String host, final int port, final String path, final int timeoutMs) {
        final long start = System.nanoTime();
        try (Socket socket = new Socket()) {
            if (from != null) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            }
            socket.connect(new InetSocketAddress(InetAddress.getByName(host), port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            final OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final InputStream in = socket.getInputStream();
            final String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            final String status = answer.length() > 12 ? answer.substring(9, 12) : "error: short answer";
            final int bodyAt = answer.indexOf("\r\n\r\n");
            return new Response(status, bodyAt < 0 ? "" : answer.substring(bodyAt + 4), elapsed(start));
        } catch (final ConnectException e) {
            return new Response("refused", "", elapsed(start));
        } catch (final SocketTimeoutException e) {
            return new Response("timeout", "", elapsed(start));
        } catch (final IOException e) {
            return new Response("error: " + e.getMessage(), "", elapsed(start));
        }
    }

    /** As {@link #udp}, from a connected socket (the kernel's early demux finds those). */
    public static String udpConnected(final String host, final int port, final String payload, final int timeoutMs) {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(timeoutMs);
            socket.connect(InetAddress.getByName(host), port);
            final byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(bytes, bytes.length));
            final byte[] buffer = new byte[2048];
            final DatagramPacket in = new DatagramPacket(buffer, buffer.length);
            socket.receive(in);
            return new String(buffer, 0, in.getLength(), StandardCharsets.UTF_8);
        } catch (final SocketTimeoutException e) {
            return "timeout";
        } catch (final IOException e) {
            return "error: " + e.getMessage();
        }
    }

    /** Sends one UDP datagram and waits for one answer; the answer's text or "timeout". */
    public static String udp(final String host, final int port, final String payload, final int timeoutMs) {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(timeoutMs);
            final byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(bytes, bytes.length, InetAddress.getByName(host), port));
            final byte[] buffer = new byte[2048];
            final DatagramPacket in = new DatagramPacket(buffer, buffer.length);
            socket.receive(in);
            return new String(buffer, 0, in.getLength(), StandardCharsets.UTF_8);
        } catch (final SocketTimeoutException e) {
            return "timeout";
        } catch (final IOException e) {
            return "error: " + e.getMessage();
        }
    }

    private static long elapsed(final long startNs) {
        return (System.nanoTime() - startNs) / 1_000_000;
    }
}
