package dev.ferry.control.dns;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A resolver on 127.0.0.1 standing in for the node's upstream (tests never send a query off the
 * machine): UDP and TCP on one port, every question answered with one A record,
 * {@value #ADDRESS}, TTL 60, and each question's name and transport recorded.
 */
final class FakeUpstream implements AutoCloseable {
    static final String ADDRESS = "192.0.2.53";

    private final DatagramSocket udp;
    private final ServerSocket tcp;
    final List<String> questions = new CopyOnWriteArrayList<>();
    private volatile boolean silent;

    FakeUpstream() throws IOException {
        udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        tcp = new ServerSocket(udp.getLocalPort(), 16, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::serveUdp);
        Thread.ofVirtual().start(this::serveTcp);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), udp.getLocalPort());
    }

    /** From now on, receive and never answer (an upstream that is down). */
    void goSilent() {
        silent = true;
    }

    private void serveUdp() {
        final byte[] buffer = new byte[4096];
        while (!udp.isClosed()) {
            try {
                final DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                final byte[] answer = answer(java.util.Arrays.copyOf(buffer, packet.getLength()), "udp");
                if (answer != null) {
                    udp.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
                }
            } catch (final IOException e) {
                return;
            }
        }
    }

    private void serveTcp() {
        while (!tcp.isClosed()) {
            try (Socket socket = tcp.accept()) {
                final DataInputStream in = new DataInputStream(socket.getInputStream());
                final byte[] query = in.readNBytes(in.readUnsignedShort());
                final byte[] answer = answer(query, "tcp");
                if (answer != null) {
                    final DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                    out.writeShort(answer.length);
                    out.write(answer);
                    out.flush();
                }
            } catch (final IOException e) {
                if (tcp.isClosed()) {
                    return;
                }
            }
        }
    }

    /** The query's header and question, QR and RA set, one A record pointing back at the question (0xC00C). */
    private byte[] answer(final byte[] query, final String transport) {
        int end = 12;
        final StringBuilder name = new StringBuilder();
        while (query[end] != 0) {
            if (!name.isEmpty()) {
                name.append('.');
            }
            name.append(new String(query, end + 1, query[end], java.nio.charset.StandardCharsets.US_ASCII));
            end += query[end] + 1;
        }
        end += 5; // root label, type, class
        questions.add(transport + " " + name);
        if (silent) {
            return null;
        }
        final byte[] out = new byte[end + 16];
        System.arraycopy(query, 0, out, 0, end);
        out[2] = (byte) (0x80 | query[2] & 0x01); // QR, RD echoed
        out[3] = (byte) 0x80; // RA, NOERROR
        out[6] = 0;
        out[7] = 1; // one answer
        out[10] = 0;
        out[11] = 0; // no additional records (the query's OPT is not echoed)
        final byte[] rr = {(byte) 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, (byte) 192, 0, 2, 53};
        System.arraycopy(rr, 0, out, end, rr.length);
        return out;
    }

    @Override
    public void close() throws IOException {
        udp.close();
        tcp.close();
    }
}
