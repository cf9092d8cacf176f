package dev.ferry.control.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What the API server would hand each node's agent: the node config and the demo set of
 * Services and Pods, as manifest files. ClusterIPs and NodePorts are pinned, so that every
 * node's agent (each allocating on its own in manifest mode) agrees on them and the demo's
 * output is predictable. Endpoints are not written: the agents derive them from the Pods'
 * labels and Ready conditions, which {@link ReadinessController} keeps up to date.
 *
 * <p>Files in a node's manifests directory: {@code 00-services.yaml} (written once) and one
 * {@code pod-NAME.yaml} per pod, replaced atomically (write a dot file, rename) whenever the
 * pod's readiness changes, because the agent reads every *.yaml and skips dot files.
 */
public final class LabManifests {
    public static final String SERVICES_FILE = "00-services.yaml";
    public static final String NAMESPACE = "default";

    /** web: ClusterIP over every app=web pod; TCP 80, UDP 53, and a UDP port nobody listens on. */
    public static final String WEB_IP = "10.96.0.10";
    public static final int WEB_PORT = 80;
    public static final int WEB_UDP_PORT = 53;
    /** UDP service port whose target port (5999) has no listener: backends answer ICMP port unreachable. */
    public static final int WEB_CLOSED_UDP_PORT = 9999;
    public static final int CLOSED_TARGET_PORT = 5999;
    /** solo: ClusterIP whose only backend is web-1 on node-1 (local, remote and hairpin cases). */
    public static final String SOLO_IP = "10.96.0.11";
    /** sticky: NodePort with sessionAffinity ClientIP over the web pods. */
    public static final String STICKY_IP = "10.96.0.20";
    public static final int STICKY_NODE_PORT = 30020;
    /** web-nodeport: NodePort, externalTrafficPolicy Cluster, TCP and UDP. */
    public static final String NODEPORT_IP = "10.96.0.30";
    public static final int NODEPORT_HTTP = 30080;
    public static final int NODEPORT_UDP = 30053;
    /** web-local: NodePort with externalTrafficPolicy Local; its only backend, local-1, is on node-1. */
    public static final String LOCAL_IP = "10.96.0.31";
    public static final int LOCAL_NODE_PORT = 30081;
    /** web-lb: LoadBalancer with ingress IP {@link #LB_IP}, routed by the router to the nodes. */
    public static final String LB_CLUSTER_IP = "10.96.0.40";
    public static final String LB_IP = "198.18.100.1";
    public static final int LB_NODE_PORT = 30040;
    /** outside: selector-less service whose Endpoints point at the external server off the cluster. */
    public static final String OUTSIDE_IP = "10.96.0.60";
    /** ext-name: ExternalName; DNS only, no data path. */
    public static final String EXTERNAL_NAME_TARGET = "external.lab.invalid";
    /** empty: a selector nothing matches, so no endpoints: connections are rejected. */
    public static final String EMPTY_IP = "10.96.0.90";

    private LabManifests() {
    }

    /** The node config of {@code node} (docs/ARCHITECTURE.md, "The agent"; docs/OPERATIONS.md for its fields). */
    public static String nodeConfig(final LabTopology.Node node, final String portType) {
        return """
            # Written by ferry lab: node config of %s.
            nodeName: %s
            nodeIPs: [%s]
            clusterCIDRs: [%s]
            podCIDR: %s
            serviceCIDRs: [%s]
            nodePortRange: 30000-32767
            portType: %s
            masqueradeAddress: %s
            """.formatted(node.name(), node.name(), node.ip(), LabTopology.CLUSTER_CIDR, node.podCidr(),
            LabTopology.SERVICE_CIDR, portType, node.masqueradeIp());
    }

    /** The demo set of Services (and the Endpoints of the selector-less one). */
    public static String services() {
        return """
            # Written by ferry lab: the demo set of Services. ClusterIPs and NodePorts are pinned so
            # that every node agrees on them. Endpoints come from the pod-*.yaml files' Ready conditions.
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: default}
            spec:
              type: ClusterIP
              clusterIP: %1$s
              selector: {app: web}
              ports:
              - {name: http, protocol: TCP, port: %2$d, targetPort: http}
              - {name: dns, protocol: UDP, port: %3$d, targetPort: udp}
              - {name: closed, protocol: UDP, port: %4$d, targetPort: %5$d}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: solo, namespace: default}
            spec:
              clusterIP: %6$s
              selector: {solo: "yes"}
              ports:
              - {name: http, protocol: TCP, port: 80, targetPort: 8080}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: sticky, namespace: default}
            spec:
              type: NodePort
              clusterIP: %7$s
              selector: {app: web}
              sessionAffinity: ClientIP
              sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}
              ports:
              - {name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: %8$d}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web-nodeport, namespace: default}
            spec:
              type: NodePort
              clusterIP: %9$s
              externalTrafficPolicy: Cluster
              selector: {app: web}
              ports:
              - {name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: %10$d}
              - {name: dns, protocol: UDP, port: 53, targetPort: 5353, nodePort: %11$d}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web-local, namespace: default}
            spec:
              type: NodePort
              clusterIP: %12$s
              externalTrafficPolicy: Local
              selector: {app: local}
              ports:
              - {name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: %13$d}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web-lb, namespace: default}
            spec:
              type: LoadBalancer
              clusterIP: %14$s
              externalTrafficPolicy: Cluster
              selector: {app: web}
              ports:
              - {name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: %15$d}
            status:
              loadBalancer:
                ingress:
                - ip: %16$s
            ---
            # No selector: the Endpoints below, written by hand, point off the cluster.
            apiVersion: v1
            kind: Service
            metadata: {name: outside, namespace: default}
            spec:
              clusterIP: %17$s
              ports:
              - {protocol: TCP, port: 80, targetPort: 8080}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: outside, namespace: default}
            subsets:
            - addresses:
              - ip: %18$s
              ports:
              - {protocol: TCP, port: 8080}
            ---
            # DNS only: no ClusterIP, no data path.
            apiVersion: v1
            kind: Service
            metadata: {name: ext-name, namespace: default}
            spec:
              type: ExternalName
              externalName: %19$s
            ---
            # Nothing has app=nothing: no endpoints, so connections are rejected at once.
            apiVersion: v1
            kind: Service
            metadata: {name: empty, namespace: default}
            spec:
              clusterIP: %20$s
              selector: {app: nothing}
              ports:
              - {name: http, protocol: TCP, port: 80, targetPort: 8080}
            """.formatted(WEB_IP, WEB_PORT, WEB_UDP_PORT, WEB_CLOSED_UDP_PORT, CLOSED_TARGET_PORT, SOLO_IP,
            STICKY_IP, STICKY_NODE_PORT, NODEPORT_IP, NODEPORT_HTTP, NODEPORT_UDP, LOCAL_IP, LOCAL_NODE_PORT,
            LB_CLUSTER_IP, LB_NODE_PORT, LB_IP, OUTSIDE_IP, LabTopology.EXTERNAL_IP, EXTERNAL_NAME_TARGET, EMPTY_IP);
    }

    /** A Running pod scheduled on its node, with its address and the given Ready condition. */
    public static String pod(final LabTopology.Pod pod, final boolean ready, final Instant since) {
        final String labels = pod.labels().entrySet().stream()
            .map(e -> e.getKey() + ": \"" + e.getValue() + "\"")
            .collect(Collectors.joining(", ", "{", "}"));
        return """
            # Written by ferry lab's readiness controller: Ready follows GET /healthz of the pod's server.
            apiVersion: v1
            kind: Pod
            metadata: {name: %s, namespace: default, labels: %s}
            spec:
              nodeName: %s
              containers:
              - name: server
                ports:
                - {name: http, containerPort: %d, protocol: TCP}
                - {name: udp, containerPort: %d, protocol: UDP}
            status:
              phase: Running
              podIP: %s
              podIPs: [{ip: %s}]
              conditions:
              - {type: Ready, status: "%s", lastTransitionTime: "%s"}
            """.formatted(pod.name(), labels, pod.node().name(), LabTopology.HTTP_PORT, LabTopology.UDP_PORT,
            pod.ip(), pod.ip(), ready ? "True" : "False", since.truncatedTo(ChronoUnit.SECONDS));
    }

    public static String podFile(final String podName) {
        return "pod-" + podName + ".yaml";
    }

    /** Writes node.yaml and manifests/ (services and every pod, not Ready yet) for one node. */
    public static void writeNode(final LabTopology topology, final LabTopology.Node node, final Path nodeDir,
                                 final String portType, final Map<String, Boolean> readiness) throws IOException {
        final Path manifests = nodeDir.resolve("manifests");
        Files.createDirectories(manifests);
        writeAtomically(nodeDir.resolve("node.yaml"), nodeConfig(node, portType));
        writeAtomically(manifests.resolve(SERVICES_FILE), services());
        final Instant now = Instant.now();
        for (final LabTopology.Pod pod : topology.pods()) {
            writeAtomically(manifests.resolve(podFile(pod.name())), pod(pod, readiness.getOrDefault(pod.name(), false), now));
        }
    }

    /**
     * Replaces {@code file} in one step: the agent's directory watch must never read a half
     * written file. The temporary file is a dot file, which the manifest reader skips.
     */
    public static void writeAtomically(final Path file, final String content) throws IOException {
        final Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The Ready status written in a pod file ("True"/"False"), or null when the file is missing. */
    public static Boolean readReady(final Path podFile) throws IOException {
        if (!Files.exists(podFile)) {
            return null;
        }
        final String text = Files.readString(podFile);
        return text.contains("{type: Ready, status: \"True\"");
    }
}
