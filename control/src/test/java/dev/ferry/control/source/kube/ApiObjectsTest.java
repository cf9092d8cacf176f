package dev.ferry.control.source.kube;

import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.SessionAffinity;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;
import dev.ferry.control.model.TargetPort;
import dev.ferry.control.model.TrafficPolicy;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.ferry.control.source.kube.ApiFixtures.service;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ApiObjectsTest {
    private static int ip(final String text) {
        return Ipv4.parse(text);
    }

    @Test
    void shouldApplyTheApiDefaultsToAMinimalService() {
        final Service s = ApiObjects.service(new ServiceBuilder()
            .withNewMetadata().withName("web").endMetadata()
            .withNewSpec().withClusterIP("10.96.0.10").addNewPort().withPort(80).endPort().endSpec()
            .build());
        assertEquals("Service default/web", s.ref().describe());
        assertEquals(List.of(ip("10.96.0.10")), s.clusterIps());
        assertEquals(1, s.ports().size());
        assertEquals("", s.ports().getFirst().name());
        assertEquals(Protocol.TCP, s.ports().getFirst().protocol());
        assertEquals(TargetPort.of(80), s.ports().getFirst().targetPort(), "targetPort defaults to the port");
        assertEquals(0, s.ports().getFirst().nodePort());
        assertEquals(TrafficPolicy.Cluster, s.externalTrafficPolicy());
        assertEquals(TrafficPolicy.Cluster, s.internalTrafficPolicy());
        assertEquals(SessionAffinity.None, s.sessionAffinity());
        assertEquals(10800, s.affinityTimeoutSeconds());
        assertFalse(s.clusterIpUnset(), "nothing is allocated from the API");
    }

    @Test
    void shouldCarryEveryFieldTheDataplaneUses() {
        final Service s = ApiObjects.service(service("shop", "10.96.0.20", 443).editSpec()
            .withType("LoadBalancer")
            .editFirstPort().withNodePort(31443).withTargetPort(new IntOrString("https")).endPort()
            .withExternalIPs("198.18.0.200", "2001:db8::1")
            .withLoadBalancerSourceRanges("203.0.113.0/24", "2001:db8::/64")
            .withExternalTrafficPolicy("Local")
            .withInternalTrafficPolicy("Local")
            .withSessionAffinity("ClientIP")
            .withNewSessionAffinityConfig().withNewClientIP().withTimeoutSeconds(60).endClientIP().endSessionAffinityConfig()
            .withHealthCheckNodePort(32000)
            .endSpec()
            .withNewStatus().withNewLoadBalancer()
            .addNewIngress().withIp("198.18.100.5").endIngress()
            .addNewIngress().withIp("198.18.100.6").withIpMode("Proxy").endIngress()
            .addNewIngress().withHostname("lb.example.com").endIngress()
            .endLoadBalancer().endStatus()
            .build());
        assertEquals(TargetPort.named("https"), s.ports().getFirst().targetPort());
        assertEquals(31443, s.ports().getFirst().nodePort());
        assertEquals(List.of(ip("198.18.0.200")), s.externalIps(), "IPv6 entries of dual-stack services are left out");
        assertEquals(List.of(Ipv4Cidr.parse("203.0.113.0/24")), s.loadBalancerSourceRanges());
        assertEquals(List.of(ip("198.18.100.5")), s.loadBalancerIps(),
            "ipMode Proxy and hostname-only ingress get no rule, as in kube-proxy");
        assertEquals(TrafficPolicy.Local, s.externalTrafficPolicy());
        assertEquals(TrafficPolicy.Local, s.internalTrafficPolicy());
        assertEquals(SessionAffinity.ClientIP, s.sessionAffinity());
        assertEquals(60, s.affinityTimeoutSeconds());
        assertEquals(32000, s.healthCheckNodePort());
    }

    @Test
    void shouldIgnoreAHealthCheckNodePortWhereKubeProxyServesNone() {
        final Service s = ApiObjects.service(service("web", "10.96.0.10", 80).editSpec().withType("NodePort")
            .withExternalTrafficPolicy("Local").withHealthCheckNodePort(32000).endSpec().build());
        assertEquals(0, s.healthCheckNodePort(), "only LoadBalancer services with externalTrafficPolicy Local get one");
    }

    @Test
    void shouldTakeTheIpv4ClusterIpOfADualStackService() {
        final Service s = ApiObjects.service(service("web", "fd00::10", 80).editSpec()
            .withClusterIPs("fd00::10", "10.96.0.10").endSpec().build());
        assertEquals(List.of(ip("10.96.0.10")), s.clusterIps());
    }

    @Test
    void shouldSkipWhatKubeProxyGivesNoDataPath() {
        assertNull(ApiObjects.service(service("v6", "fd00::10", 80).build()), "IPv6 only");
        assertNull(ApiObjects.service(service("pending", "", 80).build()), "no ClusterIP yet");
        assertNull(ApiObjects.service(service("other", "10.96.0.11", 80).editMetadata()
            .addToLabels(ApiObjects.SERVICE_PROXY_NAME_LABEL, "other-proxy").endMetadata().build()), "another proxy's");
    }

    @Test
    void shouldKeepHeadlessAndExternalNameServicesForDnsWithoutADataPath() {
        final Service headless = ApiObjects.service(service("headless", "None", 80).build());
        assertTrue(headless.headless());
        assertFalse(headless.hasDataPath());
        final Service external = ApiObjects.service(service("db", "", 80).editSpec().withType("ExternalName").withClusterIP(null)
            .withClusterIPs(List.of()).withExternalName("DB.Example.com.").endSpec().build());
        assertEquals("db.example.com", external.externalName(), "lower case, no trailing dot");
        assertFalse(external.hasDataPath());
    }

    @Test
    void shouldRejectAValueThatDoesNotParseNamingTheField() {
        final ApiObjects.ApiObjectException e = assertThrows(ApiObjects.ApiObjectException.class,
            () -> ApiObjects.service(service("web", "10.96.0.10", 80).editSpec().withExternalIPs("198.18.0.300").endSpec().build()));
        assertEquals("kubernetes API: Service default/web: spec.externalIPs[0]: '198.18.0.300' is not an IP address",
            e.error().toString());
    }

    @Test
    void shouldApplyTheConditionDefaultsOfASlice() {
        final EndpointSlice slice = ApiObjects.slice(new EndpointSliceBuilder()
            .withNewMetadata().withName("web-abc").withNamespace("shop").addToLabels("kubernetes.io/service-name", "web").endMetadata()
            .withAddressType("IPv4")
            .addNewPort().withName("http").withPort(8080).endPort()
            .addNewPort().withName("none").endPort()
            .withEndpoints(
                new EndpointBuilder().withAddresses("10.244.1.5", "10.244.1.6").withNodeName("node-1").build(),
                new EndpointBuilder().withAddresses("10.244.2.7").withNewConditions().withReady(false).endConditions().build(),
                new EndpointBuilder().withAddresses("10.244.2.8").withNewConditions().withReady(false).withServing(true)
                    .withTerminating(true).endConditions().build(),
                new EndpointBuilder().build())
            .build());
        assertEquals("web", slice.serviceName());
        assertEquals("shop", slice.ref().namespace());
        assertEquals(List.of(new SlicePort("http", Protocol.TCP, 8080), new SlicePort("none", Protocol.TCP, 0)), slice.ports());
        assertEquals(List.of(
            new SliceEndpoint(ip("10.244.1.5"), true, true, false, "node-1"),
            new SliceEndpoint(ip("10.244.2.7"), false, false, false, null),
            new SliceEndpoint(ip("10.244.2.8"), false, true, true, null)), slice.endpoints(),
            "ready when absent, serving as ready, first address only, endpoints without one left out");
    }

    @Test
    void shouldSkipSlicesKubeProxyIgnores() {
        final EndpointSliceBuilder base = new EndpointSliceBuilder()
            .withNewMetadata().withName("web-abc").addToLabels("kubernetes.io/service-name", "web").endMetadata()
            .withAddressType("IPv4");
        assertTrue(ApiObjects.slice(base.build()) != null);
        assertNull(ApiObjects.slice(new EndpointSliceBuilder(base.build()).withAddressType("IPv6").build()), "IPv6");
        assertNull(ApiObjects.slice(new EndpointSliceBuilder(base.build()).withAddressType("FQDN").build()), "FQDN");
        assertNull(ApiObjects.slice(new EndpointSliceBuilder(base.build()).editMetadata().withLabels(null).endMetadata().build()),
            "no service-name label");
        assertNull(ApiObjects.slice(new EndpointSliceBuilder(base.build()).editMetadata()
            .addToLabels(ApiObjects.SERVICE_PROXY_NAME_LABEL, "other").endMetadata().build()), "another proxy's");
    }

    @Test
    void shouldReadTheNodesAddressPodRangeAndEligibility() {
        final NodeFacts facts = NodeFacts.of(ApiFixtures.thisNode());
        assertEquals(ip("198.18.0.11"), facts.nodeIp(), "InternalIP before ExternalIP, whatever the order");
        assertEquals(Ipv4Cidr.parse("10.244.1.0/24"), facts.podCidr());
        assertTrue(facts.eligible());

        final NodeFacts external = NodeFacts.of(ApiFixtures.node().editStatus().withAddresses(List.of()).addNewAddress()
            .withType("ExternalIP").withAddress("203.0.113.11").endAddress().endStatus()
            .editSpec().withPodCIDRs("fd00:1::/64", "10.244.3.0/24").withPodCIDR("fd00:1::/64").endSpec().build());
        assertEquals(ip("203.0.113.11"), external.nodeIp(), "ExternalIP when there is no InternalIP");
        assertEquals(Ipv4Cidr.parse("10.244.3.0/24"), external.podCidr(), "the IPv4 range of a dual-stack node");

        assertFalse(NodeFacts.of(ApiFixtures.node().editMetadata().withDeletionTimestamp("2025-01-01T00:00:00Z").endMetadata()
            .build()).eligible(), "being deleted");
        assertFalse(NodeFacts.of(ApiFixtures.node().editSpec().addNewTaint().withKey(NodeFacts.TO_BE_DELETED_TAINT)
            .withEffect("NoSchedule").endTaint().endSpec().build()).eligible(), "about to be removed by the autoscaler");
    }

    /** node IP 198.18.0.11, clusterCIDRs 10.244.0.0/16, podCIDR 10.244.1.0/24, serviceCIDRs 10.96.0.0/12. */
    private static final NodeSpec NODE = new NodeSpec("node-1", List.of(Ipv4.parse("198.18.0.11")),
        List.of(Ipv4Cidr.parse("10.244.0.0/16")), Ipv4Cidr.parse("10.244.1.0/24"), List.of(Ipv4Cidr.parse("10.96.0.0/12")),
        NodeSpec.DEFAULT_NODE_PORT_MIN, NodeSpec.DEFAULT_NODE_PORT_MAX, List.of(), false);

    @Test
    void shouldReadTheIpv4RangesOfAServiceCidrAndLeaveItsIpv6OnesOut() {
        assertEquals(List.of(Ipv4Cidr.parse("10.200.0.0/16")),
            ApiObjects.serviceCidrRanges(ApiFixtures.serviceCidr("dual", "fd00:10:96::/108", "10.200.0.0/16"), NODE));
        assertEquals(List.of(), ApiObjects.serviceCidrRanges(ApiFixtures.serviceCidr("v6", "fd00:10:96::/108"), NODE));
        final ApiObjects.ApiObjectException e = assertThrows(ApiObjects.ApiObjectException.class,
            () -> ApiObjects.serviceCidrRanges(ApiFixtures.serviceCidr("bad", "10.200.0.0/16", "10.201.0.0/40"), NODE));
        assertTrue(e.getMessage().startsWith("ServiceCIDR bad: spec.cidrs[1]: "), e.getMessage());
    }

    /** A ServiceCIDR is routed into ferry0: one over the pods or the node would swallow their traffic. */
    @Test
    void shouldRefuseAServiceCidrOverlappingThePodRangesOrHoldingTheNode() {
        final List<String[]> cases = List.of(
            new String[] {"10.240.0.0/12", "10.240.0.0/12 overlaps the clusterCIDR 10.244.0.0/16"},
            new String[] {"10.244.1.128/25", "10.244.1.128/25 overlaps the clusterCIDR 10.244.0.0/16"},
            new String[] {"198.18.0.0/24", "198.18.0.0/24 holds the node IP 198.18.0.11"});
        for (final String[] c : cases) {
            final ApiObjects.ApiObjectException e = assertThrows(ApiObjects.ApiObjectException.class,
                () -> ApiObjects.serviceCidrRanges(ApiFixtures.serviceCidr("wide", "10.200.0.0/16", c[0]), NODE), c[0]);
            assertTrue(e.getMessage().startsWith("ServiceCIDR wide: spec.cidrs[1]: " + c[1] + ";"), e.getMessage());
        }
        final NodeSpec podCidrOnly = new NodeSpec("node-1", List.of(), List.of(), Ipv4Cidr.parse("10.244.1.0/24"), List.of(),
            NodeSpec.DEFAULT_NODE_PORT_MIN, NodeSpec.DEFAULT_NODE_PORT_MAX, List.of(), false);
        assertEquals("10.244.0.0/16 overlaps the podCIDR 10.244.1.0/24", podCidrOnly.serviceRangeClash(Ipv4Cidr.parse("10.244.0.0/16")));
        assertEquals(List.of(Ipv4Cidr.parse("10.240.0.0/14")),
            ApiObjects.serviceCidrRanges(ApiFixtures.serviceCidr("beside", "10.240.0.0/14"), NODE), "adjacent, not overlapping");
    }
}
