package dev.ferry.control.source.kube;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDRBuilder;

import java.util.List;

/** Services, EndpointSlices and Nodes as an API server holds them, built with fabric8's model builders. */
final class ApiFixtures {
    static final String NODE = "node-1";
    static final String NODE_IP = "198.18.0.11";
    static final String POD_CIDR = "10.244.1.0/24";

    private ApiFixtures() {
    }

    /** A ClusterIP service in "default" with one TCP port "http" (port → 8080). */
    static ServiceBuilder service(final String name, final String clusterIp, final int port) {
        return new ServiceBuilder()
            .withNewMetadata().withName(name).withNamespace("default").endMetadata()
            .withNewSpec()
            .withType("ClusterIP")
            .withClusterIP(clusterIp)
            .withClusterIPs(clusterIp)
            .addNewPort().withName("http").withProtocol("TCP").withPort(port).withTargetPort(new IntOrString(8080)).endPort()
            .endSpec();
    }

    static Service plain(final String name, final String clusterIp, final int port) {
        return service(name, clusterIp, port).build();
    }

    /** A slice of {@code service} in "default" with port "http" 8080 and {@code endpoints}. */
    static EndpointSlice slice(final String name, final String service, final Endpoint... endpoints) {
        return new EndpointSliceBuilder()
            .withNewMetadata().withName(name).withNamespace("default")
            .addToLabels("kubernetes.io/service-name", service).endMetadata()
            .withAddressType("IPv4")
            .addNewPort().withName("http").withProtocol("TCP").withPort(8080).endPort()
            .withEndpoints(endpoints)
            .build();
    }

    /** A ready endpoint on {@code node}. */
    static Endpoint ready(final String ip, final String node) {
        return endpoint(ip, node, true, true, false);
    }

    static Endpoint endpoint(final String ip, final String node, final boolean ready, final boolean serving,
                             final boolean terminating) {
        return new EndpointBuilder().withAddresses(ip).withNodeName(node)
            .withNewConditions().withReady(ready).withServing(serving).withTerminating(terminating).endConditions()
            .build();
    }

    /** A ServiceCIDR (cluster-scoped) with {@code cidrs} as its spec.cidrs. */
    static ServiceCIDR serviceCidr(final String name, final String... cidrs) {
        return new ServiceCIDRBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withCidrs(cidrs).endSpec().build();
    }

    /** This node: InternalIP {@value #NODE_IP}, pod range {@value #POD_CIDR}. */
    static NodeBuilder node() {
        return new NodeBuilder()
            .withNewMetadata().withName(NODE).endMetadata()
            .withNewSpec().withPodCIDR(POD_CIDR).withPodCIDRs(List.of(POD_CIDR)).endSpec()
            .withNewStatus()
            .addNewAddress().withType("Hostname").withAddress(NODE).endAddress()
            .addNewAddress().withType("ExternalIP").withAddress("203.0.113.11").endAddress()
            .addNewAddress().withType("InternalIP").withAddress(NODE_IP).endAddress()
            .endStatus();
    }

    static Node thisNode() {
        return node().build();
    }
}
