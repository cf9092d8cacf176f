package dev.ferry.control.source.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.ferry.dataplane.addr.Ipv4;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Fills the node config keys that neither the file nor a flag set from the API, the way
 * kube-proxy learns about its node (for {@code NodeConfigOptions.resolve(origin, fill)}):
 * <ul>
 *   <li>nodeName: the {@code NODE_NAME} environment variable (the DaemonSet sets it from
 *       spec.nodeName), else the host name in lower case, as kube-proxy's default;</li>
 *   <li>nodeIPs: the Node's first IPv4 InternalIP, else its first IPv4 ExternalIP;</li>
 *   <li>podCIDR: the Node's first IPv4 spec.podCIDRs entry, when one is assigned.</li>
 * </ul>
 * It reads the Node only when nodeIPs or podCIDR is missing, waiting up to the given time for it
 * to appear (kubelet registers it). The keys the Node decided are remembered: if the Node's values
 * for them change later (or a pod range is assigned after start), the agent must restart to take
 * them, as kube-proxy does.
 */
public final class NodeDefaults implements Function<JsonNode, Map<String, JsonNode>> {
    private static final Logger LOG = Logger.getLogger(NodeDefaults.class.getName());
    static final long RETRY_MS = 1_000;

    private final KubernetesClient client;
    private final long waitMs;
    private final EpochClock clock;
    private final Set<String> fromNode = new TreeSet<>();
    private NodeFacts facts;

    /** @param waitMs how long to wait for the Node to exist and the API server to answer */
    public NodeDefaults(final KubernetesClient client, final long waitMs) {
        this(client, waitMs, SystemEpochClock.INSTANCE);
    }

    NodeDefaults(final KubernetesClient client, final long waitMs, final EpochClock clock) {
        this.client = client;
        this.waitMs = waitMs;
        this.clock = clock;
    }

    /** What the node config should have where {@code merged} (file and flags) has nothing. */
    @Override
    public Map<String, JsonNode> apply(final JsonNode merged) {
        final Map<String, JsonNode> values = new LinkedHashMap<>();
        String nodeName = merged.path("nodeName").asText("");
        if (nodeName.isEmpty()) {
            nodeName = defaultNodeName();
            values.put("nodeName", JsonNodeFactory.instance.textNode(nodeName));
        }
        final boolean needIps = !merged.has("nodeIPs");
        final boolean needPodCidr = !merged.has("podCIDR");
        if (needIps || needPodCidr) {
            final Node node = awaitNode(nodeName);
            facts = NodeFacts.of(node);
            if (needIps) {
                if (facts.nodeIp() == null) {
                    throw new IllegalStateException("Node " + nodeName + " has no IPv4 InternalIP or ExternalIP in "
                        + "status.addresses; give this node's address with --node-ip");
                }
                values.put("nodeIPs", JsonNodeFactory.instance.arrayNode().add(Ipv4.format(facts.nodeIp())));
            }
            if (needPodCidr) {
                fromNode.add("podCIDR"); // decided by the Node even when it has none yet
                if (facts.podCidr() != null) {
                    values.put("podCIDR", JsonNodeFactory.instance.textNode(facts.podCidr().toString()));
                } else {
                    LOG.info("Node " + nodeName + " has no IPv4 pod range (spec.podCIDRs): running without podCIDR");
                }
            }
        }
        fromNode.addAll(values.keySet());
        return values;
    }

    /** The keys whose values {@link #apply} took from the Node or the host (nodeName, nodeIPs, podCIDR). */
    public Set<String> fromNode() {
        return Set.copyOf(fromNode);
    }

    /** The Node as read at start, or null when it was not needed. */
    NodeFacts facts() {
        return facts;
    }

    private Node awaitNode(final String nodeName) {
        final long deadline = clock.time() + waitMs;
        RuntimeException lastError = null;
        boolean logged = false;
        while (true) {
            try {
                final Node node = client.nodes().withName(nodeName).get();
                if (node != null) {
                    return node;
                }
                lastError = null;
            } catch (final RuntimeException e) {
                lastError = e;
            }
            if (clock.time() >= deadline) {
                break;
            }
            if (!logged) {
                LOG.info("waiting up to " + waitMs / 1000 + " s for Node " + nodeName + " at " + client.getMasterUrl()
                    + (lastError == null ? " (not registered yet)" : " (" + lastError.getMessage() + ")"));
                logged = true;
            }
            try {
                Thread.sleep(RETRY_MS);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Node " + nodeName, e);
            }
        }
        if (lastError != null) {
            throw new IllegalStateException("cannot read Node " + nodeName + " from the API server at " + client.getMasterUrl()
                + " (waited " + waitMs / 1000 + " s): " + lastError.getMessage(), lastError);
        }
        throw new IllegalStateException("Node " + nodeName + " is not registered at the API server " + client.getMasterUrl()
            + " (waited " + waitMs / 1000 + " s); give this node's name as kubelet registered it with --node-name, "
            + "or its address with --node-ip and its pod range with --pod-cidr");
    }

    /** NODE_NAME, else the host name in lower case (kube-proxy's default for --hostname-override). */
    static String defaultNodeName() {
        final String env = System.getenv("NODE_NAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            final String hostname = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).trim();
            if (!hostname.isEmpty()) {
                return hostname.toLowerCase(Locale.ROOT);
            }
        } catch (final IOException e) {
            // not Linux: ask Java
        }
        try {
            return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
        } catch (final IOException e) {
            throw new IllegalStateException("cannot tell this node's name: set --node-name (or NODE_NAME)", e);
        }
    }
}
