package dev.ferry.control.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Asks a running agent for a change over its control socket (a Unix socket in the run
 * directory, {@code /run/ferry/control.sock}, that only the agent's user and root can open): the one listener that
 * serves what changes the dataplane, such as {@code ferry conntrack -D}. One HTTP/1.0 request
 * per connection; the answer is JSON.
 */
public final class ControlClient {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** The longest answer read; a delete answers {"deleted": N}. */
    private static final int MAX_ANSWER_BYTES = 1 << 20;

    private final Path socket;

    public ControlClient(final Path socket) {
        this.socket = socket;
    }

    /** DELETE path?query, parsed as JSON. */
    public JsonNode delete(final String path, final String query) {
        return send("DELETE", path + (query == null || query.isEmpty() ? "" : "?" + query));
    }

    private JsonNode send(final String method, final String target) {
        final byte[] answer;
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((method + " " + target + " HTTP/1.0\r\nHost: ferry\r\nAccept: application/json\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII)));
            final ByteArrayOutputStream read = new ByteArrayOutputStream();
            final ByteBuffer buffer = ByteBuffer.allocate(8192);
            while (channel.read(buffer.clear()) > 0 && read.size() < MAX_ANSWER_BYTES) {
                read.write(buffer.array(), 0, buffer.position());
            }
            answer = read.toByteArray();
        } catch (final SocketException e) {
            throw new AgentClient.AgentException(unreachable(e), e);
        } catch (final IOException e) {
            throw new AgentClient.AgentException(method + " " + target + " on " + socket + ": " + e, e);
        }
        final String text = new String(answer, StandardCharsets.UTF_8);
        final int headerEnd = text.indexOf("\r\n\r\n");
        final String[] status = text.lines().findFirst().orElse("").split(" ");
        final int code = status.length > 1 && status[1].matches("\\d{3}") ? Integer.parseInt(status[1]) : 0;
        final String body = headerEnd < 0 ? "" : text.substring(headerEnd + 4);
        final JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (final IOException e) {
            throw new AgentClient.AgentException("the agent's control socket " + socket + " answered HTTP " + code + ": " + body.strip(), e);
        }
        if (code / 100 != 2) {
            throw new AgentClient.AgentException("the agent's control socket " + socket + " answered " + method + " with HTTP " + code
                + ": " + (json.hasNonNull("error") ? json.get("error").asText() : body.strip()), null);
        }
        return json;
    }

    private String unreachable(final SocketException e) {
        if (!Files.exists(socket)) {
            return "no control socket at " + socket + ": is the agent running, with this --run-dir? Point --control-socket at it otherwise.";
        }
        if (!Files.isWritable(socket)) {
            return "permission denied on " + socket + ": the control socket is root's only (run as root)";
        }
        return "cannot reach the agent's control socket " + socket + ": " + e.getMessage();
    }
}
