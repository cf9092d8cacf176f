package dev.ferry.nativeio.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

/**
 * A one-request HTTP/1.0 server and client over real kernel TCP sockets, each socket created
 * on a thread inside its namespace. Pure JDK, so CI needs no extra packages.
 */
public final class TinyHttp {
    private TinyHttp() {
    }

    public static byte[] body(int size) {
        byte[] b = new byte[size];
        new Random(42).nextBytes(b);
        return b;
    }

    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Listens on {@code ip:port} in {@code ns}, serves {@code body} at GET /blob to one client, on a daemon thread. */
    public static ServerSocket serveOnce(TestNetns ns, String ip, int port, byte[] body) {
        ServerSocket listener = ns.call(() -> {
            ServerSocket ss = new ServerSocket();
            ss.bind(new InetSocketAddress(ip, port));
            return ss;
        });
        Thread.ofPlatform().daemon(true).name("tiny-http").start(() -> {
            try (Socket s = listener.accept()) {
                InputStream in = s.getInputStream();
                ByteArrayOutputStream head = new ByteArrayOutputStream();
                while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                    int c = in.read();
                    if (c < 0) {
                        return;
                    }
                    head.write(c);
                }
                OutputStream out = s.getOutputStream();
                if (head.toString(StandardCharsets.US_ASCII).startsWith("GET /blob ")) {
                    out.write(("HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                            + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                } else {
                    out.write("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
            } catch (IOException ignored) {
                // the client reports what it got
            }
        });
        return listener;
    }

    /** Response of GET /blob from a socket created in {@code ns}: status line and body. */
    public record Response(String statusLine, byte[] body) {
    }

    public static Response get(TestNetns ns, String ip, int port, int timeoutMs) {
        return ns.call(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(ip, port), timeoutMs);
                s.setSoTimeout(timeoutMs);
                s.getOutputStream().write(("GET /blob HTTP/1.0\r\nHost: " + ip + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] all = s.getInputStream().readAllBytes();
                int i = 0;
                while (i + 3 < all.length && !(all[i] == '\r' && all[i + 1] == '\n' && all[i + 2] == '\r' && all[i + 3] == '\n')) {
                    i++;
                }
                String head = new String(all, 0, Math.min(i, all.length), StandardCharsets.US_ASCII);
                return new Response(head.split("\r\n")[0], Arrays.copyOfRange(all, Math.min(i + 4, all.length), all.length));
            }
        });
    }
}
