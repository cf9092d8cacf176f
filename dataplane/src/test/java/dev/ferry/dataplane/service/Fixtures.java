package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.ArrayList;
import java.util.List;

/** Builders for node and service specs in tests, written with dotted-quad text. */
public final class Fixtures {
    private Fixtures() {
    }

    public static int ip(final String text) {
        return Ipv4.parse(text);
    }

    public static List<Integer> ips(final String... texts) {
        final List<Integer> out = new ArrayList<>();
        for (final String t : texts) {
            out.add(ip(t));
        }
        return out;
    }

    public static List<Ipv4Cidr> cidrs(final String... texts) {
        final List<Ipv4Cidr> out = new ArrayList<>();
        for (final String t : texts) {
            out.add(Ipv4Cidr.parse(t));
        }
        return out;
    }

    /**
     * The node the packet-flow tables run on: two addresses, NodePorts only on the first
     * (nodePortAddresses 198.18.0.0/24), pods 10.244.0.0/16 (this node 10.244.1.0/24), services
     * 10.96.0.0/12.
     */
    public static NodeSpec node(final boolean masqueradeAll) {
        return new NodeSpec("node-a", ips("198.18.0.11", "192.168.50.11"), cidrs("10.244.0.0/16"),
            Ipv4Cidr.parse("10.244.1.0/24"), cidrs("10.96.0.0/12"), NodeSpec.DEFAULT_NODE_PORT_MIN,
            NodeSpec.DEFAULT_NODE_PORT_MAX, cidrs("198.18.0.0/24"), masqueradeAll);
    }

    public static EndpointSpec ready(final String address, final int port, final boolean local) {
        return new EndpointSpec(ip(address), port, true, true, false, local);
    }

    public static EndpointSpec servingTerminating(final String address, final int port, final boolean local) {
        return new EndpointSpec(ip(address), port, false, true, true, local);
    }

    public static EndpointSpec notServing(final String address, final int port, final boolean local) {
        return new EndpointSpec(ip(address), port, false, false, true, local);
    }

    public static Svc svc(final String name, final Protocol protocol, final int port) {
        return new Svc(name, protocol, port);
    }

    /** Mutable builder for one {@link ServicePortSpec}. */
    public static final class Svc {
        private String namespace = "default";
        private final String name;
        private String portName = "";
        private final Protocol protocol;
        private final int port;
        private int nodePort;
        private final List<Integer> clusterIps = new ArrayList<>();
        private final List<Integer> externalIps = new ArrayList<>();
        private final List<Integer> lbIps = new ArrayList<>();
        private final List<Ipv4Cidr> sourceRanges = new ArrayList<>();
        private boolean externalLocal;
        private boolean internalLocal;
        private boolean affinity;
        private int affinityTimeoutSeconds = ServicePortSpec.DEFAULT_AFFINITY_TIMEOUT_SECONDS;
        private int healthCheckNodePort;
        private final List<EndpointSpec> endpoints = new ArrayList<>();

        private Svc(final String name, final Protocol protocol, final int port) {
            this.name = name;
            this.protocol = protocol;
            this.port = port;
        }

        public Svc namespace(final String ns) {
            this.namespace = ns;
            return this;
        }

        public Svc portName(final String n) {
            this.portName = n;
            return this;
        }

        public Svc clusterIp(final String a) {
            clusterIps.add(ip(a));
            return this;
        }

        public Svc clusterIp(final int a) {
            clusterIps.add(a);
            return this;
        }

        public Svc externalIp(final String a) {
            externalIps.add(ip(a));
            return this;
        }

        public Svc loadBalancerIp(final String a) {
            lbIps.add(ip(a));
            return this;
        }

        public Svc sourceRange(final String c) {
            sourceRanges.add(Ipv4Cidr.parse(c));
            return this;
        }

        public Svc nodePort(final int p) {
            this.nodePort = p;
            return this;
        }

        public Svc healthCheckNodePort(final int p) {
            this.healthCheckNodePort = p;
            return this;
        }

        public Svc externalLocal() {
            this.externalLocal = true;
            return this;
        }

        public Svc internalLocal() {
            this.internalLocal = true;
            return this;
        }

        public Svc affinity(final int timeoutSeconds) {
            this.affinity = true;
            this.affinityTimeoutSeconds = timeoutSeconds;
            return this;
        }

        public Svc endpoint(final EndpointSpec e) {
            endpoints.add(e);
            return this;
        }

        public Svc ready(final String address, final int p, final boolean local) {
            return endpoint(Fixtures.ready(address, p, local));
        }

        public ServicePortSpec build() {
            return new ServicePortSpec(namespace, name, portName, protocol, port, nodePort, clusterIps, externalIps,
                lbIps, sourceRanges, externalLocal, internalLocal, affinity, affinityTimeoutSeconds,
                healthCheckNodePort, endpoints);
        }
    }
}
