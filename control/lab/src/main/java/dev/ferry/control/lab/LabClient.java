package dev.ferry.control.lab;

import dev.ferry.nativeio.netns.NetworkNamespace;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real clients for the lab, run inside a lab namespace: a thread enters the namespace with
 * setns(2) ({@link NetworkNamespace}) and opens plain Java sockets there, which stay in that
 * namespace. HTTP/1.0 GETs and UDP datagrams, one or many per call, each ending in an
 * {@link Outcome}: answered (and by which pod, seeing which client address), refused (a TCP
 * reset or ICMP port unreachable), timed out, or failed otherwise.
 */
public final class LabClient {
    private static final Pattern ANSWER = Pattern.compile("pod=(\\S+) client=(\\S+):(\\d+)");

    /** How one request ended. */
    public enum Kind { ANSWERED, REFUSED, TIMEOUT, UNREACHABLE, FAILED }

    /**
     * @param kind      how it ended
     * @param status    the HTTP status, 0 for UDP or when not answered
     * @param pod       the pod that answered ("pod=NAME"), or null
     * @param clientIp  the source address the pod saw, or null
     * @param clientPort the source port the pod saw, or 0
     * @param body      the answer as received, or the error
     * @param elapsedMs from connect (or send) to the outcome
     */
    public record Outcome(Kind kind, int status, String pod, String clientIp, int clientPort, String body, long elapsedMs) {
        public boolean answered() {
            return kind == Kind.ANSWERED;
        }

        @Override
        public String toString() {
            return switch (kind) {
                case ANSWERED -> body.strip() + (status > 0 && status != 200 ? " (HTTP " + status + ")" : "");
                case REFUSED -> "refused after " + elapsedMs + " ms";
                case TIMEOUT -> "no answer within " + elapsedMs + " ms (dropped)";
                case UNREACHABLE -> "unreachable: " + body;
                case FAILED -> "failed: " + body;
            };
        }
    }

    /** One request: from {@code sourceIp} (null: the kernel picks) to {@code ip:port}. */
    public record Request(String sourceIp, String ip, int port, String path, int timeoutMs) {
        public static Request http(final String ip, final int port) {
            return new Request(null, ip, port, "/", 3000);
        }

        public Request from(final String source) {
            return new Request(source, ip, port, path, timeoutMs);
        }

        public Request timeout(final int ms) {
            return new Request(sourceIp, ip, port, path, ms);
        }

        public Request path(final String newPath) {
            return new Request(sourceIp, ip, port, newPath, timeoutMs);
        }
    }

    private LabClient() {
    }

    /** An HTTP GET from inside namespace {@code netns}. */
    public static Outcome http(final String netns, final Request request) {
        return httpMany(netns, List.of(request)).get(0);
    }

    /** HTTP GETs in order, each on a new connection, all from one thread inside {@code netns}. */
    public static List<Outcome> httpMany(final String netns, final List<Request> requests) {
        return inNamespace(netns, requests, LabClient::httpGet);
    }

    /** UDP datagrams in order, each from a new socket, from inside {@code netns}. */
    public static List<Outcome> udpMany(final String netns, final List<Request> requests) {
        return inNamespace(netns, requests, LabClient::udpExchange);
    }

    public static Outcome udp(final String netns, final Request request) {
        return udpMany(netns, List.of(request)).get(0);
    }

    private static List<Outcome> inNamespace(final String netns, final List<Request> requests, final Function<Request, Outcome> one) {
        return NetworkNamespace.call(netns, () -> {
            final List<Outcome> outcomes = new ArrayList<>(requests.size());
            for (final Request request : requests) {
                outcomes.add(one.apply(request));
            }
            return outcomes;
        });
    }

    /** A plain HTTP/1.0 GET on the calling thread's namespace. */
    public static Outcome httpGet(final Request request) {
        final long start = System.nanoTime();
        try (Socket socket = new Socket()) {
            socket.setReuseAddress(true);
            if (request.sourceIp() != null) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(request.sourceIp()), 0));
            }
            socket.setSoTimeout(request.timeoutMs());
            socket.connect(new InetSocketAddress(InetAddress.getByName(request.ip()), request.port()), request.timeoutMs());
            final OutputStream out = socket.getOutputStream();
            out.write(("GET " + request.path() + " HTTP/1.0\r\nHost: " + request.ip() + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final InputStream in = socket.getInputStream();
            final String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            final int headerEnd = response.indexOf("\r\n\r\n");
            final String statusLine = response.lines().findFirst().orElse("");
            final String[] parts = statusLine.split(" ");
            final int status = parts.length > 1 && parts[1].matches("\\d{3}") ? Integer.parseInt(parts[1]) : 0;
            final String body = headerEnd >= 0 ? response.substring(headerEnd + 4) : response;
            return answered(status, body, start);
        } catch (final ConnectException e) {
            return refusedOr(e, start);
        } catch (final SocketTimeoutException e) {
            return new Outcome(Kind.TIMEOUT, 0, null, null, 0, e.getMessage(), elapsedMs(start));
        } catch (final NoRouteToHostException e) {
            return new Outcome(Kind.UNREACHABLE, 0, null, null, 0, e.getMessage(), elapsedMs(start));
        } catch (final IOException e) {
            final String message = String.valueOf(e.getMessage());
            if (message.contains("Connection reset")) {
                return new Outcome(Kind.REFUSED, 0, null, null, 0, message, elapsedMs(start));
            }
            return new Outcome(Kind.FAILED, 0, null, null, 0, e.getClass().getSimpleName() + ": " + message, elapsedMs(start));
        }
    }

    /**
     * Sends one datagram from a connected UDP socket and waits for the echo. A connected
     * socket is told of an ICMP port unreachable for its flow: that is {@link Kind#REFUSED}.
     */
    public static Outcome udpExchange(final Request request) {
        final long start = System.nanoTime();
        try (DatagramChannel channel = DatagramChannel.open()) {
            if (request.sourceIp() != null) {
                channel.bind(new InetSocketAddress(InetAddress.getByName(request.sourceIp()), 0));
            }
            channel.connect(new InetSocketAddress(InetAddress.getByName(request.ip()), request.port()));
            channel.socket().setSoTimeout(request.timeoutMs());
            channel.write(ByteBuffer.wrap("hello from the lab\n".getBytes(StandardCharsets.UTF_8)));
            final java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[2048], 2048);
            channel.socket().receive(packet);
            final String body = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
            return answered(0, body, start);
        } catch (final PortUnreachableException e) {
            return new Outcome(Kind.REFUSED, 0, null, null, 0, "ICMP port unreachable", elapsedMs(start));
        } catch (final SocketTimeoutException e) {
            return new Outcome(Kind.TIMEOUT, 0, null, null, 0, "no datagram", elapsedMs(start));
        } catch (final UnknownHostException e) {
            return new Outcome(Kind.FAILED, 0, null, null, 0, "unknown host " + e.getMessage(), elapsedMs(start));
        } catch (final IOException e) {
            final String message = String.valueOf(e.getMessage());
            if (message.contains("refused")) {
                return new Outcome(Kind.REFUSED, 0, null, null, 0, "ICMP port unreachable (" + message + ")", elapsedMs(start));
            }
            return new Outcome(Kind.FAILED, 0, null, null, 0, e.getClass().getSimpleName() + ": " + message, elapsedMs(start));
        }
    }

    private static Outcome refusedOr(final ConnectException e, final long start) {
        final String message = String.valueOf(e.getMessage());
        if (message.contains("refused")) {
            return new Outcome(Kind.REFUSED, 0, null, null, 0, message, elapsedMs(start));
        }
        if (message.contains("timed out")) {
            return new Outcome(Kind.TIMEOUT, 0, null, null, 0, message, elapsedMs(start));
        }
        if (message.contains("unreachable") || message.contains("No route")) {
            return new Outcome(Kind.UNREACHABLE, 0, null, null, 0, message, elapsedMs(start));
        }
        return new Outcome(Kind.FAILED, 0, null, null, 0, message, elapsedMs(start));
    }

    private static Outcome answered(final int status, final String body, final long start) {
        final Matcher m = ANSWER.matcher(body);
        if (m.find()) {
            return new Outcome(Kind.ANSWERED, status, m.group(1), m.group(2), Integer.parseInt(m.group(3)), body, elapsedMs(start));
        }
        return new Outcome(Kind.ANSWERED, status, null, null, 0, body, elapsedMs(start));
    }

    private static long elapsedMs(final long startNs) {
        return (System.nanoTime() - startNs) / 1_000_000;
    }
}
