package dev.ferry.perf.lab;

import dev.ferry.perf.load.LoadPorts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The Services of the lab benchmarks, as one list that both the agent's manifests and the
 * kernel baselines' rule sets are generated from, so that every dataplane serves exactly the
 * same thing:
 * <pre>
 *   bench          10.96.100.10  7000/UDP, 7001/TCP (rr), 7002/TCP (crr), 7003/TCP (bulk) -> the load servers
 *                  (on the external paths also NodePorts 30700-30703 and LB IP 198.18.100.10; see {@link BenchPath})
 *   svc-1..svc-K   10.97.0.1 ..  80/TCP -> 10 endpoints each in 10.248.0.0/14 (no such pods: rule-set weight only)
 *   change-N       10.96.100.20+N  80/TCP -> one load server's crr port (the "one-service change")
 * </pre>
 * "N services" means the bench service plus N-1 fillers.
 */
public final class BenchServices {
    public static final String NAMESPACE = "bench";
    public static final String BENCH_IP = "10.96.100.10";
    public static final String CLUSTER_CIDR = "10.244.0.0/16";
    public static final String SERVICE_CIDR = "10.96.0.0/12";
    public static final int FILLER_ENDPOINTS = 10;
    private static final int FILLER_IP_BASE = ip("10.97.0.0");
    private static final int ENDPOINT_IP_BASE = ip("10.248.0.0");
    private static final int CHANGE_IP_BASE = ip("10.96.100.20");

    /** A backend address and port. */
    public record Endpoint(String ip, int port) {
    }

    /**
     * One service port: what kube-proxy calls a ServicePortName, with its ClusterIP and endpoints,
     * and for a LoadBalancer service its NodePort and LoadBalancer IP ({@code 0} and null otherwise).
     */
    public record ServicePort(String service, String portName, String protocol, String clusterIp, int port, List<Endpoint> endpoints,
                              int nodePort, String loadBalancerIp) {
        public ServicePort {
            endpoints = List.copyOf(endpoints);
            if ((nodePort == 0) != (loadBalancerIp == null)) {
                throw new IllegalArgumentException("a bench LoadBalancer port has both a NodePort and an LB IP, others neither");
            }
        }

        /** A ClusterIP service port. */
        public ServicePort(final String service, final String portName, final String protocol, final String clusterIp, final int port,
                           final List<Endpoint> endpoints) {
            this(service, portName, protocol, clusterIp, port, endpoints, 0, null);
        }

        public boolean external() {
            return nodePort != 0;
        }

        /** {@code bench/svc-1/tcp/http}: kube-proxy's chain-name suffix. */
        public String id() {
            return NAMESPACE + "/" + service + "/" + protocol.toLowerCase() + "/" + portName;
        }

        public String l4() {
            return protocol.toLowerCase();
        }
    }

    private BenchServices() {
    }

    /**
     * The bench service's four ports for {@code path}: over all {@code servers} for the ClusterIP
     * path; over the first server alone on a masqueraded path (one backend: every connection
     * needs its own SNAT tuple towards the same address and port); a LoadBalancer service
     * (NodePorts {@link BenchPath#nodePort}, LB IP {@link BenchPath#LOAD_BALANCER_IP}) on the external paths.
     */
    public static List<ServicePort> bench(final List<String> servers, final BenchPath path) {
        final List<String> backends = path.masqueraded() ? servers.subList(0, 1) : servers;
        final List<ServicePort> ports = new ArrayList<>();
        ports.add(port("udp", "UDP", LoadPorts.UDP_SINK, backends, path));
        ports.add(port("rr", "TCP", LoadPorts.TCP_RR, backends, path));
        ports.add(port("crr", "TCP", LoadPorts.TCP_CRR, backends, path));
        ports.add(port("bulk", "TCP", LoadPorts.TCP_BULK, backends, path));
        return ports;
    }

    private static ServicePort port(final String name, final String protocol, final int port, final List<String> servers,
                                    final BenchPath path) {
        return new ServicePort("bench", name, protocol, BENCH_IP, port, servers.stream().map(s -> new Endpoint(s, port)).toList(),
            path.external() ? BenchPath.nodePort(port) : 0, path.external() ? BenchPath.LOAD_BALANCER_IP : null);
    }

    /** Filler {@code i} (1-based): 80/TCP with ten endpoints that no pod holds. */
    public static ServicePort filler(final int i) {
        final List<Endpoint> endpoints = new ArrayList<>();
        for (int j = 0; j < FILLER_ENDPOINTS; j++) {
            endpoints.add(new Endpoint(text(ENDPOINT_IP_BASE + (i - 1) * FILLER_ENDPOINTS + j + 1), 8080));
        }
        return new ServicePort("svc-" + i, "http", "TCP", text(FILLER_IP_BASE + i), 80, endpoints);
    }

    /** The bench service (for {@code path}) plus {@code services - 1} fillers. */
    public static List<ServicePort> all(final int services, final List<String> servers, final BenchPath path) {
        if (services < 1 || services > 100_000) {
            throw new IllegalArgumentException("services must be 1..100000, was " + services);
        }
        final List<ServicePort> all = new ArrayList<>(bench(servers, path));
        for (int i = 1; i < services; i++) {
            all.add(filler(i));
        }
        return all;
    }

    /** The same service ports with the bench service's endpoints moved {@code offset} ports up (fillers unchanged). */
    public static List<ServicePort> withTargetPortOffset(final List<ServicePort> ports, final int offset) {
        return ports.stream().map(p -> !p.service().equals("bench") ? p : new ServicePort(p.service(), p.portName(), p.protocol(),
            p.clusterIp(), p.port(), p.endpoints().stream().map(e -> new Endpoint(e.ip(), e.port() + offset)).toList(), p.nodePort(),
            p.loadBalancerIp())).toList();
    }

    /** The {@code n}-th one-service change: a new service whose only endpoint is {@code server}'s crr port. */
    public static ServicePort change(final int n, final String server) {
        return new ServicePort("change-" + n, "http", "TCP", text(CHANGE_IP_BASE + n), 80,
            List.of(new Endpoint(server, LoadPorts.TCP_CRR)));
    }

    /** Service and EndpointSlice manifests (YAML, one document each) for the given ports, grouped by service. */
    public static String manifests(final List<ServicePort> ports) {
        return manifests(ports, true);
    }

    /** As {@link #manifests(List)}, every endpoint's {@code ready} condition {@code ready}. */
    public static String manifests(final List<ServicePort> ports, final boolean ready) {
        final StringBuilder y = new StringBuilder(ports.size() * 1200);
        y.append("# Written by ferry bench lab: selector-less Services with their EndpointSlices.\n");
        int i = 0;
        while (i < ports.size()) {
            final String service = ports.get(i).service();
            int j = i;
            while (j < ports.size() && ports.get(j).service().equals(service)) {
                j++;
            }
            final List<ServicePort> group = ports.subList(i, j);
            final boolean external = group.get(0).external();
            y.append("---\napiVersion: v1\nkind: Service\nmetadata: {name: ").append(service).append(", namespace: ").append(NAMESPACE)
                .append("}\nspec:\n  type: ").append(external ? "LoadBalancer" : "ClusterIP").append("\n  clusterIP: ")
                .append(group.get(0).clusterIp()).append("\n  ports:\n");
            for (final ServicePort p : group) {
                y.append("  - {name: ").append(p.portName()).append(", protocol: ").append(p.protocol()).append(", port: ").append(p.port())
                    .append(", targetPort: ").append(p.endpoints().get(0).port());
                if (external) {
                    y.append(", nodePort: ").append(p.nodePort());
                }
                y.append("}\n");
            }
            if (external) {
                y.append("status:\n  loadBalancer:\n    ingress:\n    - {ip: ").append(group.get(0).loadBalancerIp()).append("}\n");
            }
            // one slice per service port: endpoints of one port each
            for (final ServicePort p : group) {
                y.append("---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: ").append(service).append('-')
                    .append(p.portName()).append("\n  namespace: ").append(NAMESPACE).append("\n  labels: {kubernetes.io/service-name: ")
                    .append(service).append("}\naddressType: IPv4\nports:\n- {name: ").append(p.portName()).append(", protocol: ")
                    .append(p.protocol()).append(", port: ").append(p.endpoints().get(0).port()).append("}\nendpoints:\n");
                for (final Endpoint e : p.endpoints()) {
                    y.append("- {addresses: [").append(e.ip()).append("], conditions: {ready: ").append(ready).append("}}\n");
                }
            }
            i = j;
        }
        return y.toString();
    }

    /** kube-proxy's chain-name hash: the first 8 characters of base32(sha256(text)). */
    static String hash(final String text) {
        try {
            final byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            final String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            final StringBuilder out = new StringBuilder(8);
            int buffer = 0;
            int bits = 0;
            for (final byte b : digest) {
                buffer = (buffer << 8) | (b & 0xff);
                bits += 8;
                while (bits >= 5 && out.length() < 8) {
                    out.append(alphabet.charAt((buffer >> (bits - 5)) & 31));
                    bits -= 5;
                }
                if (out.length() == 8) {
                    break;
                }
            }
            return out.toString();
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static int ip(final String dotted) {
        final String[] p = dotted.split("\\.");
        return (Integer.parseInt(p[0]) << 24) | (Integer.parseInt(p[1]) << 16) | (Integer.parseInt(p[2]) << 8) | Integer.parseInt(p[3]);
    }

    static String text(final int ip) {
        return ((ip >>> 24) & 255) + "." + ((ip >>> 16) & 255) + "." + ((ip >>> 8) & 255) + "." + (ip & 255);
    }
}
