package dev.ferry.control.allocate;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.PortType;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.manifest.ManifestReader;
import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.control.model.Service;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.NodeSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceAllocatorTest {
    private static final Ipv4Cidr SERVICE_CIDR = Ipv4Cidr.parse("10.96.0.0/12");

    @TempDir
    Path dir;

    static NodeConfig config(final String serviceCidr, final int nodePortMin, final int nodePortMax) {
        return new NodeConfig(new NodeSpec("node-a", List.of(Ipv4.parse("198.18.0.11")), List.of(Ipv4Cidr.parse("10.244.0.0/16")),
            Ipv4Cidr.parse("10.244.1.0/24"), serviceCidr == null ? List.of() : List.of(Ipv4Cidr.parse(serviceCidr)),
            nodePortMin, nodePortMax, List.of(), false), PortType.TUN);
    }

    static NodeConfig config() {
        return config(SERVICE_CIDR.toString(), 30000, 32767);
    }

    static String service(final String name, final String spec) {
        return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec:\n" + spec.indent(2) + "---\n";
    }

    private List<Service> read(final String... manifests) throws IOException {
        for (int i = 0; i < manifests.length; i++) {
            Files.writeString(dir.resolve(i + ".yaml"), manifests[i]);
        }
        final ManifestSet set = ManifestReader.read(List.of(dir));
        assertEquals(List.of(), set.errors());
        return set.services();
    }

    private static Service named(final ServiceAllocator.Result result, final String name) {
        return result.services().stream().filter(s -> s.ref().name().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no " + name + " in " + result.services() + "; errors " + result.errors()));
    }

    private static int clusterIp(final ServiceAllocator.Result result, final String name) {
        return named(result, name).clusterIps().get(0);
    }

    private static int nodePort(final ServiceAllocator.Result result, final String name, final int port) {
        return named(result, name).ports().get(port).nodePort();
    }

    @Test
    void shouldAllocateMissingClusterIpInsideServiceCidrAboveStaticBand() throws Exception {
        final ServiceAllocator.Result result = new ServiceAllocator(config(), Allocations.NONE)
            .allocate(read(service("web", "ports: [{port: 80}]")), Map.of());
        assertEquals(List.of(), result.errors());
        final int ip = clusterIp(result, "web");
        assertTrue(SERVICE_CIDR.contains(ip), Ipv4.format(ip));
        // /12: the static band is 256 addresses after the network address.
        assertTrue(Integer.toUnsignedLong(ip) > Integer.toUnsignedLong(Ipv4.parse("10.96.1.0")), Ipv4.format(ip));
        assertEquals(0, named(result, "web").ports().get(0).nodePort(), "a ClusterIP service gets no NodePort");
        assertEquals(Map.of("default/web", ip), result.allocations().clusterIps());
    }

    @Test
    void shouldGiveSameValuesOnEveryAllocationAndToFreshAllocators() throws Exception {
        final List<Service> services = read(service("web", "type: NodePort\nports: [{name: w, port: 80}, {name: x, port: 81}]"),
            service("api", "type: LoadBalancer\nexternalTrafficPolicy: Local\nports: [{port: 443}]"));
        final ServiceAllocator allocator = new ServiceAllocator(config(), Allocations.NONE);
        final ServiceAllocator.Result first = allocator.allocate(services, Map.of());
        final ServiceAllocator.Result second = allocator.allocate(services, Map.of());
        final ServiceAllocator.Result fresh = new ServiceAllocator(config(), Allocations.NONE).allocate(services, Map.of());
        final ServiceAllocator.Result reversed = new ServiceAllocator(config(), Allocations.NONE)
            .allocate(List.of(services.get(1), services.get(0)), Map.of());
        assertEquals(List.of(), first.errors());
        assertEquals(first.services(), second.services());
        assertEquals(first.services(), fresh.services());
        assertEquals(first.allocations(), reversed.allocations(), "file order does not matter");
        assertNotEquals(nodePort(first, "web", 0), nodePort(first, "web", 1));
        assertTrue(nodePort(first, "api", 0) >= 30000 + 86, "above the NodePort static band");
        final int healthCheck = named(first, "api").healthCheckNodePort();
        assertTrue(healthCheck >= 30000 && healthCheck <= 32767 && healthCheck != nodePort(first, "api", 0));
        assertEquals(0, named(first, "web").healthCheckNodePort(), "only LoadBalancer + Local has a health check port");
    }

    @Test
    void shouldNotAllocateForHeadlessExternalNameOrWhenLoadBalancerNodePortsAreOff() throws Exception {
        final ServiceAllocator.Result result = new ServiceAllocator(config(), Allocations.NONE).allocate(read(
            service("db", "clusterIP: None\nports: [{port: 5432}]"),
            service("ext", "type: ExternalName\nexternalName: example.com"),
            service("lb", "type: LoadBalancer\nallocateLoadBalancerNodePorts: false\nports: [{name: a, port: 80}, {name: b, port: 81, nodePort: 30081}]")),
            Map.of());
        assertEquals(List.of(), result.errors());
        assertEquals(List.of(), named(result, "db").clusterIps());
        assertEquals(List.of(), named(result, "ext").clusterIps());
        assertEquals(1, named(result, "lb").clusterIps().size());
        assertEquals(0, nodePort(result, "lb", 0));
        assertEquals(30081, nodePort(result, "lb", 1), "explicit values stay");
    }

    @Test
    void shouldShareNodePortBetweenProtocolsOfOnePortNumber() throws Exception {
        final ServiceAllocator.Result result = new ServiceAllocator(config(), Allocations.NONE).allocate(read(
            service("dns", "type: NodePort\nports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]"),
            service("dns2", "type: NodePort\nports: [{name: u, port: 53, protocol: UDP}, {name: t, port: 53, nodePort: 30053}]")),
            Map.of());
        assertEquals(List.of(), result.errors());
        assertEquals(nodePort(result, "dns", 0), nodePort(result, "dns", 1));
        assertEquals(30053, nodePort(result, "dns2", 0), "the explicit NodePort of the same port number is shared");
        assertEquals(30053, nodePort(result, "dns2", 1));
    }

    @Test
    void shouldLetExplicitValuesWinOverAllocatedOnes() throws Exception {
        final ServiceAllocator allocator = new ServiceAllocator(config(), Allocations.NONE);
        final ServiceAllocator.Result alone = allocator.allocate(read(service("web", "type: NodePort\nports: [{port: 80}]")), Map.of());
        final int ip = clusterIp(alone, "web");
        final int port = nodePort(alone, "web", 0);
        // Another service now claims exactly those values explicitly, in a later file.
        final ServiceAllocator.Result after = allocator.allocate(read(service("web", "type: NodePort\nports: [{port: 80}]"),
            service("pinned", "type: NodePort\nclusterIP: " + Ipv4.format(ip) + "\nports: [{port: 80, nodePort: " + port + "}]")),
            Map.of());
        assertEquals(List.of(), after.errors());
        assertEquals(ip, clusterIp(after, "pinned"));
        assertEquals(port, nodePort(after, "pinned", 0));
        assertNotEquals(ip, clusterIp(after, "web"));
        assertNotEquals(port, nodePort(after, "web", 0));
    }

    @Test
    void shouldRejectLaterExplicitConflictsNamingBoth() throws Exception {
        final ServiceAllocator.Result result = new ServiceAllocator(config(), Allocations.NONE).allocate(read(
            service("a", "type: NodePort\nclusterIP: 10.96.0.10\nports: [{port: 80, nodePort: 30080}]"),
            service("b", "clusterIP: 10.96.0.10\nports: [{port: 81}]"),
            service("c", "type: NodePort\nports: [{port: 53, protocol: UDP, nodePort: 30080}]"),
            service("d", "type: LoadBalancer\nexternalTrafficPolicy: Local\nhealthCheckNodePort: 30080\nports: [{port: 1}]")),
            Map.of());
        assertEquals(List.of("a"), result.services().stream().map(s -> s.ref().name()).toList());
        final List<String> errors = result.errors().stream().map(ManifestError::toString).toList();
        assertEquals(3, errors.size(), errors.toString());
        final String a = dir.resolve("0.yaml") + ": Service default/a";
        assertEquals(dir.resolve("1.yaml") + ": Service default/b: spec.clusterIP: 10.96.0.10 is already the ClusterIP of " + a,
            errors.get(0));
        assertEquals(dir.resolve("2.yaml") + ": Service default/c: spec.ports[0].nodePort: 30080 is already a node port of " + a,
            errors.get(1), "NodePorts are unique whatever the protocol");
        assertEquals(dir.resolve("3.yaml") + ": Service default/d: spec.healthCheckNodePort: 30080 is already a node port of " + a,
            errors.get(2));
    }

    @Test
    void shouldRejectExplicitValuesOutsideTheNodeConfigRanges() throws Exception {
        final ServiceAllocator.Result result = new ServiceAllocator(config(), Allocations.NONE).allocate(read(
            service("a", "clusterIP: 172.30.0.1\nports: [{port: 80}]"),
            service("b", "type: NodePort\nports: [{port: 80, nodePort: 8080}]"),
            service("c", "type: NodePort\nports: [{name: a, port: 80, nodePort: 30080}, {name: b, port: 81, nodePort: 30080}]")),
            Map.of());
        assertEquals(List.of(), result.services());
        final List<String> errors = result.errors().stream().map(ManifestError::toString).toList();
        assertTrue(errors.get(0).endsWith("Service default/a: spec.clusterIP: 172.30.0.1 is outside the serviceCIDRs "
            + "[10.96.0.0/12]"), errors.get(0));
        assertTrue(errors.get(1).endsWith("Service default/b: spec.ports[0].nodePort: 8080 is outside the node's nodePortRange "
            + "30000-32767"), errors.get(1));
        assertTrue(errors.get(2).endsWith("Service default/c: spec.ports[1].nodePort: 30080/TCP is already the node port of "
            + "spec.ports[0]"), errors.get(2));
    }

    @Test
    void shouldKeepLastGoodVersionWhenNewVersionConflicts() throws Exception {
        final List<Service> good = read(service("a", "clusterIP: 10.96.0.10\nports: [{port: 80}]"),
            service("b", "clusterIP: 10.96.0.11\nports: [{port: 80}]"));
        final Service lastGoodB = good.get(1);
        final List<Service> edited = read(service("a", "clusterIP: 10.96.0.10\nports: [{port: 80}]"),
            service("b", "clusterIP: 10.96.0.10\nports: [{port: 8080}]"));
        final ServiceAllocator.Result result = new ServiceAllocator(config(), Allocations.NONE)
            .allocate(edited, Map.of(lastGoodB.identity(), lastGoodB));
        assertEquals(lastGoodB, result.accepted().get(1), "b's previous version keeps serving");
        assertEquals(List.of(Ipv4.parse("10.96.0.11")), named(result, "b").clusterIps());
        assertTrue(result.errors().get(0).toString().endsWith(
            "spec.clusterIP: 10.96.0.10 is already the ClusterIP of " + dir.resolve("0.yaml") + ": Service default/a; "
                + "its last good version keeps serving"), result.errors().toString());
    }

    @Test
    void shouldKeepRememberedValuesWhenANewServiceHashesToTheSameValue() throws Exception {
        // Two NodePorts only: find a service whose hash lands where "web"'s does.
        final NodeConfig tiny = config(SERVICE_CIDR.toString(), 30000, 30001);
        final ServiceAllocator allocator = new ServiceAllocator(tiny, Allocations.NONE);
        final ServiceAllocator.Result alone = allocator.allocate(read(service("web", "type: NodePort\nports: [{port: 80}]")), Map.of());
        final int webPort = nodePort(alone, "web", 0);
        final String rival = collidingName("default/web/80", "default/", "/80", 2, "a");
        final String twoServices = service("web", "type: NodePort\nports: [{port: 80}]")
            + service(rival, "type: NodePort\nports: [{port: 80}]");

        final ServiceAllocator.Result both = allocator.allocate(read(twoServices), Map.of());
        assertEquals(webPort, nodePort(both, "web", 0), "web keeps its port; the newcomer probes on");
        assertNotEquals(webPort, nodePort(both, rival, 0));

        final ServiceAllocator.Result restartedWithoutMemory = new ServiceAllocator(tiny, Allocations.NONE)
            .allocate(read(twoServices), Map.of());
        assertEquals(webPort, nodePort(restartedWithoutMemory, rival, 0),
            "without memory the name order decides, so the remembered allocations must survive restarts");

        final AllocationStore store = new AllocationStore(dir.resolve("state/allocations.json"));
        store.store(both.allocations());
        final ServiceAllocator.Result restarted = new ServiceAllocator(tiny, store.load()).allocate(read(twoServices), Map.of());
        assertEquals(both.services(), restarted.services());
    }

    /** A name, sorting before {@code first} ("web"), whose key hashes to the same value in a range of {@code size}. */
    private static String collidingName(final String key, final String prefix, final String suffix, final int size,
                                        final String start) {
        final long target = Long.remainderUnsigned(AllocationRange.hash(key), size);
        for (int i = 0; ; i++) {
            final String name = start + i;
            if (Long.remainderUnsigned(AllocationRange.hash(prefix + name + suffix), size) == target) {
                return name;
            }
        }
    }

    @Test
    void shouldReportExhaustedRangesAndMissingServiceCidrs() throws Exception {
        final List<Service> services = read(service("a", "type: NodePort\nports: [{port: 80}]"),
            service("b", "type: NodePort\nports: [{port: 80}]"));
        final ServiceAllocator.Result full = new ServiceAllocator(config(SERVICE_CIDR.toString(), 30000, 30000), Allocations.NONE)
            .allocate(services, Map.of());
        assertEquals(1, full.services().size());
        assertTrue(full.errors().get(0).toString().endsWith("Service default/b: spec.ports[0].nodePort: cannot be allocated: "
            + "every port of the nodePortRange 30000-30000 is taken"), full.errors().toString());

        final ServiceAllocator.Result noCidr = new ServiceAllocator(config(null, 30000, 32767), Allocations.NONE)
            .allocate(services.subList(0, 1), Map.of());
        assertTrue(noCidr.errors().get(0).toString().endsWith("Service default/a: spec.clusterIP: is not set and the node config "
            + "has no serviceCIDRs to allocate one from; set spec.clusterIP or add serviceCIDRs to the node config"));
    }

    @Test
    void shouldUseEveryUsableAddressOfASmallCidr() throws Exception {
        final StringBuilder manifests = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            manifests.append(service("s" + i, "ports: [{port: 80}]"));
        }
        final ServiceAllocator.Result result = new ServiceAllocator(config("10.96.0.0/29", 30000, 32767), Allocations.NONE)
            .allocate(read(manifests.toString()), Map.of());
        assertEquals(6, result.services().size(), "a /29 has six addresses besides network and broadcast");
        final Map<Integer, String> owners = new HashMap<>();
        for (final Service service : result.services()) {
            final int ip = service.clusterIps().get(0);
            assertTrue(ip != Ipv4.parse("10.96.0.0") && ip != Ipv4.parse("10.96.0.7"), Ipv4.format(ip));
            assertEquals(null, owners.put(ip, service.ref().name()));
        }
        assertTrue(result.errors().get(0).problem().contains("every address of the serviceCIDRs [10.96.0.0/29] is taken"));
    }

    @Test
    void shouldRoundTripAllocationsThroughStore() throws Exception {
        final AllocationStore store = new AllocationStore(dir.resolve("allocations.json"));
        assertEquals(Allocations.NONE, store.load(), "no file yet");
        final Allocations allocations = new Allocations(Map.of("default/web", Ipv4.parse("10.96.140.7")),
            Map.of("default/web/80", 31845), Map.of("shop/shop", 32119));
        store.store(allocations);
        assertEquals(allocations, store.load());
        Files.writeString(store.file(), "{\"version\": 1, \"nodePorts\": {\"a/b/80\": 70000}}");
        final IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, store::load);
        assertTrue(e.getMessage().contains("nodePorts[a/b/80]: 70000 is not a port"), e.getMessage());
    }
}
