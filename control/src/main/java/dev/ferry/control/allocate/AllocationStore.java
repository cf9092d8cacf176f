package dev.ferry.control.allocate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.dataplane.addr.Ipv4;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Keeps {@link Allocations} in a small JSON file across restarts, written atomically (a
 * temporary file renamed over the old one) so that a crash leaves either the old or the new
 * content:
 * <pre>
 * {"version": 1,
 *  "clusterIPs": {"default/web": "10.96.140.7"},
 *  "nodePorts": {"default/web/80": 31845},
 *  "healthCheckNodePorts": {"shop/shop": 32119}}
 * </pre>
 * Without the file, allocation is still deterministic (a hash of the owner), so a restart only
 * differs where two owners once collided and the later one had to probe further.
 */
public final class AllocationStore {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final int VERSION = 1;

    private final Path file;

    public AllocationStore(final Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** The stored allocations; {@link Allocations#NONE} when the file does not exist yet. Throws saying what is wrong otherwise. */
    public Allocations load() throws IOException {
        final byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (final NoSuchFileException e) {
            return Allocations.NONE;
        }
        final JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (final IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject() || root.path("version").asInt() != VERSION) {
            throw new IOException(file + ": not a version " + VERSION + " allocation file");
        }
        final Map<String, Integer> clusterIps = new HashMap<>();
        for (final Iterator<Map.Entry<String, JsonNode>> it = root.path("clusterIPs").fields(); it.hasNext(); ) {
            final Map.Entry<String, JsonNode> entry = it.next();
            try {
                clusterIps.put(entry.getKey(), Ipv4.parse(entry.getValue().asText()));
            } catch (final IllegalArgumentException e) {
                throw new IOException(file + ": clusterIPs[" + entry.getKey() + "]: " + e.getMessage(), e);
            }
        }
        return new Allocations(clusterIps, ports(root, "nodePorts"), ports(root, "healthCheckNodePorts"));
    }

    private Map<String, Integer> ports(final JsonNode root, final String name) throws IOException {
        final Map<String, Integer> ports = new HashMap<>();
        for (final Iterator<Map.Entry<String, JsonNode>> it = root.path(name).fields(); it.hasNext(); ) {
            final Map.Entry<String, JsonNode> entry = it.next();
            final JsonNode value = entry.getValue();
            if (!value.canConvertToInt() || value.intValue() < 1 || value.intValue() > 65535) {
                throw new IOException(file + ": " + name + "[" + entry.getKey() + "]: " + value + " is not a port");
            }
            ports.put(entry.getKey(), value.intValue());
        }
        return ports;
    }

    /** Replaces the file's content with {@code allocations}, atomically. */
    public void store(final Allocations allocations) throws IOException {
        final ObjectNode root = JSON.createObjectNode();
        root.put("version", VERSION);
        final ObjectNode clusterIps = root.putObject("clusterIPs");
        allocations.clusterIps().forEach((key, ip) -> clusterIps.put(key, Ipv4.format(ip)));
        final ObjectNode nodePorts = root.putObject("nodePorts");
        allocations.nodePorts().forEach(nodePorts::put);
        final ObjectNode healthChecks = root.putObject("healthCheckNodePorts");
        allocations.healthCheckNodePorts().forEach(healthChecks::put);

        final Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        final Path temporary = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(temporary, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n",
                StandardCharsets.UTF_8);
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (final AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
