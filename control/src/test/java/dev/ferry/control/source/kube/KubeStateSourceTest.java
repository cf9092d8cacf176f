package dev.ferry.control.source.kube;

import dev.ferry.control.source.DesiredState;
import dev.ferry.control.testing.Http;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.trace.TraceResult;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDRBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.ferry.control.source.kube.ApiFixtures.NODE;
import static dev.ferry.control.source.kube.ApiFixtures.endpoint;
import static dev.ferry.control.source.kube.ApiFixtures.plain;
import static dev.ferry.control.source.kube.ApiFixtures.ready;
import static dev.ferry.control.source.kube.ApiFixtures.service;
import static dev.ferry.control.source.kube.ApiFixtures.serviceCidr;
import static dev.ferry.control.source.kube.ApiFixtures.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kubernetes API source against fabric8's mock API server in CRUD mode, read through the
 * dataplane's snapshot: every expectation is a trace of a first packet through the compiled
 * service table, as the workers would handle it. The source's client reaches the server through
 * a relay the test can cut, to play the API server going away and coming back.
 */
class KubeStateSourceTest {
    private static final String WEB = "10.96.0.10";
    private static final String LOCAL_POD = "10.244.1.11";
    private static final String REMOTE_POD = "10.244.2.12";

    @TempDir
    Path dir;

    private MockApi api;
    private CuttableProxy proxy;
    private SourceHarness harness;
    private final List<String> nodeChanges = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startServer() throws Exception {
        api = MockApi.start();
        proxy = new CuttableProxy(new InetSocketAddress("127.0.0.1", api.port()));
        harness = new SourceHarness();
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        proxy.close();
        api.close();
    }

    private KubeStateSource.Context context() throws Exception {
        final KubernetesClient client = KubeApi.fromKubeconfig(MockApi.kubeconfig(dir, proxy.url()));
        return new KubeStateSource.Context()
            .client(client)
            .nodeConfig(harness.config)
            .fromNode(Set.of("nodeIPs", "podCIDR"))
            .nodeChanged(nodeChanges::add)
            .probeIntervalMs(50)
            .startTimeoutMs(SourceHarness.WAIT_MS);
    }

    private void startSource() throws Exception {
        harness.start(new KubeStateSource(context()));
    }

    private void create(final Service service) {
        api.writer.resource(service).create();
    }

    private void create(final EndpointSlice slice) {
        api.writer.resource(slice).create();
    }

    private static boolean dnatTo(final TraceResult r, final String... backends) {
        return "DNAT".equals(r.verdict()) && r.candidates().equals(List.of(backends));
    }

    @Test
    void shouldServeWhatIsInTheApiAtStartAtOnce() throws Exception {
        create(plain("web", WEB, 80));
        create(slice("web-a", "web", ready(LOCAL_POD, NODE), ready(REMOTE_POD, "node-2")));
        startSource();

        final TraceResult r = harness.fromPod(WEB, 80);
        assertTrue(dnatTo(r, LOCAL_POD + ":8080", REMOTE_POD + ":8080"), "served from the first delivery: " + r);
        assertEquals(1, harness.states.size(), "one state, delivered on the starting thread");
        assertEquals(1, harness.states.getFirst().servicesChanged());
        assertEquals(1, harness.states.getFirst().endpointsChanged());
    }

    @Test
    void shouldFollowServicesAndSlicesBeingCreatedUpdatedAndDeleted() throws Exception {
        startSource();
        assertEquals("DROP", harness.fromPod(WEB, 80).verdict(), "nothing there yet: an unallocated service address");

        create(plain("web", WEB, 80));
        harness.awaitFromPod(WEB, 80, r -> "REJECT".equals(r.verdict()), "a service without endpoints rejects");

        create(slice("web-a", "web", ready(LOCAL_POD, NODE)));
        harness.awaitFromPod(WEB, 80, r -> dnatTo(r, LOCAL_POD + ":8080"), "the slice's endpoint serves");

        create(slice("web-b", "web", ready(REMOTE_POD, "node-2")));
        harness.awaitFromPod(WEB, 80, r -> dnatTo(r, LOCAL_POD + ":8080", REMOTE_POD + ":8080"),
            "the endpoints of two slices of one service merge");

        api.writer.resource(slice("web-a", "web", endpoint(LOCAL_POD, NODE, false, false, false))).update();
        harness.awaitFromPod(WEB, 80, r -> dnatTo(r, REMOTE_POD + ":8080"), "a pod that turned not ready gets no new flows");

        api.writer.resource(service("web", WEB, 80).editSpec().editFirstPort().withPort(8000).endPort().endSpec().build()).update();
        harness.awaitFromPod(WEB, 8000, r -> dnatTo(r, REMOTE_POD + ":8080"), "the service's new port");
        assertEquals("REJECT", harness.fromPod(WEB, 80).verdict(), "the old port is no longer a service port of the ClusterIP");

        api.writer.resources(EndpointSlice.class).inNamespace("default").withName("web-b").delete();
        harness.awaitFromPod(WEB, 8000, r -> "REJECT".equals(r.verdict()), "the last ready endpoint's slice deleted");

        api.writer.services().inNamespace("default").withName("web").delete();
        harness.awaitFromPod(WEB, 8000, r -> "DROP".equals(r.verdict()),
            "a deleted service's ClusterIP is an unallocated service address");
    }

    @Test
    void shouldServeTerminatingEndpointsOnlyWhenNoneAreReady() throws Exception {
        create(plain("web", WEB, 80));
        create(slice("web-a", "web", ready(REMOTE_POD, "node-2"), endpoint(LOCAL_POD, NODE, false, true, true)));
        startSource();
        assertTrue(dnatTo(harness.fromPod(WEB, 80), REMOTE_POD + ":8080"));

        api.writer.resource(slice("web-a", "web", endpoint(REMOTE_POD, "node-2", false, false, true),
            endpoint(LOCAL_POD, NODE, false, true, true))).update();
        harness.awaitFromPod(WEB, 80, r -> dnatTo(r, LOCAL_POD + ":8080"),
            "with no ready endpoint left, the serving terminating one takes new flows");
    }

    @Test
    void shouldTellLocalEndpointsByNodeNameForLocalTrafficPolicy() throws Exception {
        create(service("web", WEB, 80).editSpec().withType("NodePort").editFirstPort().withNodePort(30080).endPort()
            .withExternalTrafficPolicy("Local").endSpec().build());
        create(slice("web-a", "web", ready(LOCAL_POD, NODE), ready(REMOTE_POD, "node-2")));
        startSource();

        final TraceResult external = harness.trace(dev.ferry.dataplane.service.Protocol.TCP, "198.18.1.50", ApiFixtures.NODE_IP, 30080);
        assertTrue(dnatTo(external, LOCAL_POD + ":8080"), "externalTrafficPolicy Local: this node's endpoints only: " + external);
        assertFalse(external.masquerade(), "Local policy keeps the client's address");
    }

    @Test
    void shouldRouteByZoneHintsForTheZoneOfThisNodesLabelAndFollowItsChanges() throws Exception {
        api.writer.resource(ApiFixtures.node().editMetadata().addToLabels(NodeFacts.ZONE_LABEL, "zone-a").endMetadata().build()).create();
        create(plain("web", WEB, 80));
        final Endpoint inZoneA = ready(LOCAL_POD, NODE);
        inZoneA.setHints(new io.fabric8.kubernetes.api.model.discovery.v1.EndpointHintsBuilder().addNewForZone().withName("zone-a")
            .endForZone().build());
        final Endpoint inZoneB = ready(REMOTE_POD, "node-2");
        inZoneB.setHints(new io.fabric8.kubernetes.api.model.discovery.v1.EndpointHintsBuilder().addNewForZone().withName("zone-b")
            .endForZone().build());
        create(slice("web-a", "web", inZoneA, inZoneB));
        startSource();
        assertTrue(dnatTo(harness.fromPod(WEB, 80), LOCAL_POD + ":8080"), "zone-a's endpoint only");

        api.writer.resource(ApiFixtures.node().editMetadata().addToLabels(NodeFacts.ZONE_LABEL, "zone-b").endMetadata().build()).update();
        harness.awaitFromPod(WEB, 80, r -> dnatTo(r, REMOTE_POD + ":8080"), "the node's new zone, zone-b's endpoint");
    }

    @Test
    void shouldGiveAfterEveryChangeWhatASourceStartedAfreshGives() throws Exception {
        // the running source converts and compiles again only what changed (issue 14): held to a fresh one at each step
        for (int i = 0; i < 20; i++) {
            create(plain("svc-" + i, "10.96.1." + i, 80));
            create(slice("svc-" + i + "-a", "svc-" + i, ready("10.244.2." + i, "node-2")));
        }
        create(service("headless", "None", 80).build());
        create(slice("headless-a", "headless", ready(LOCAL_POD, NODE)));
        startSource();
        final List<Runnable> steps = List.of(
            () -> api.writer.resource(slice("svc-3-a", "svc-3", endpoint("10.244.2.3", "node-2", false, false, false))).update(),
            () -> create(plain("web", WEB, 80)),
            () -> create(slice("web-a", "web", ready(LOCAL_POD, NODE))),
            () -> api.writer.resource(service("svc-7", "10.96.1.7", 80).editSpec().editFirstPort().withPort(81).endPort().endSpec()
                .build()).update(),
            () -> api.writer.resource(slice("headless-a", "headless", ready(REMOTE_POD, "node-2"))).update(),
            () -> create(plain("clash", "10.96.1.5", 80)), // svc-5's ClusterIP and port: rejected, svc-5 keeps it
            () -> api.writer.services().inNamespace("default").withName("svc-5").delete(),
            () -> api.writer.resources(EndpointSlice.class).inNamespace("default").withName("svc-9-a").delete());
        int step = 0;
        for (final Runnable change : steps) {
            step++;
            change.run();
            // the informers deliver in their own time: a fresh source started now must come to the kept one's state
            final long deadline = System.nanoTime() + SourceHarness.WAIT_MS * 1_000_000;
            DesiredState kept;
            DesiredState afresh;
            do {
                Thread.sleep(50);
                try (SourceHarness fresh = new SourceHarness()) {
                    fresh.start(new KubeStateSource(context()));
                    afresh = fresh.states.getLast();
                }
                kept = harness.states.getLast();
            } while (!(afresh.ports().equals(kept.ports()) && afresh.names().equals(kept.names())) && System.nanoTime() < deadline);
            assertEquals(afresh.ports(), kept.ports(), "step " + step + ": service ports");
            assertEquals(afresh.names(), kept.names(), "step " + step + ": DNS names");
        }
        assertEquals("default/clash:http", harness.fromPod("10.96.1.5", 80).service(),
            "rejected while svc-5 held its ClusterIP, served once svc-5 is gone");
    }

    @Test
    void shouldIgnoreServicesMeantForAnotherProxyAndThoseWithoutADataPath() throws Exception {
        create(service("other", "10.96.0.20", 80).editMetadata()
            .addToLabels(ApiObjects.SERVICE_PROXY_NAME_LABEL, "some-other-proxy").endMetadata().build());
        create(slice("other-a", "other", ready(LOCAL_POD, NODE)));
        create(service("headless", "None", 80).build());
        create(slice("headless-a", "headless", ready(LOCAL_POD, NODE)));
        create(new io.fabric8.kubernetes.api.model.ServiceBuilder(plain("db", "", 5432)).editSpec().withType("ExternalName")
            .withClusterIP(null).withClusterIPs(List.of()).withExternalName("db.example.com").endSpec().build());
        create(plain("web", WEB, 80));
        create(slice("web-a", "web", ready(LOCAL_POD, NODE)));
        startSource();

        assertTrue(dnatTo(harness.fromPod(WEB, 80), LOCAL_POD + ":8080"));
        assertEquals("DROP", harness.fromPod("10.96.0.20", 80).verdict(),
            "a service labelled service.kubernetes.io/service-proxy-name is another proxy's: no frontend here");
        assertEquals(List.of("default/web:http"), harness.tables.get().ports().stream().map(p -> p.displayName()).toList(),
            "only the proxyable service is in the snapshot");

        // Labelled for another proxy later: it goes, as if deleted.
        api.writer.resource(service("web", WEB, 80).editMetadata()
            .addToLabels(ApiObjects.SERVICE_PROXY_NAME_LABEL, "some-other-proxy").endMetadata().build()).update();
        harness.awaitFromPod(WEB, 80, r -> "DROP".equals(r.verdict()), "a service relabelled for another proxy is dropped");
    }

    @Test
    void shouldNotDeliverChangesThatChangeNothingForTheDataplane() throws Exception {
        create(plain("web", WEB, 80));
        create(slice("web-a", "web", ready(LOCAL_POD, NODE)));
        startSource();
        api.writer.resource(service("web", WEB, 80).editMetadata().addToAnnotations("note", "cosmetic").endMetadata().build())
            .update();
        create(plain("marker", "10.96.0.99", 80)); // a real change after the cosmetic one
        harness.awaitFromPod("10.96.0.99", 80, r -> "REJECT".equals(r.verdict()), "the marker service");
        assertEquals(2, harness.states.size(), "the annotation alone produced no new state: " + harness.states);
        assertEquals(1, harness.states.getLast().servicesChanged());
        assertEquals(0, harness.states.getLast().endpointsChanged());
    }

    @Test
    void shouldKeepServingWhileTheApiServerIsAwayAndApplyWhatChangedMeanwhile() throws Exception {
        create(plain("web", WEB, 80));
        create(slice("web-a", "web", ready(LOCAL_POD, NODE)));
        create(slice("web-b", "web", ready(REMOTE_POD, "node-2")));
        create(plain("gone", "10.96.0.30", 80));
        startSource();
        assertTrue(dnatTo(harness.fromPod(WEB, 80), LOCAL_POD + ":8080", REMOTE_POD + ":8080"));
        assertEquals("200", harness.healthz().status());

        proxy.cut();
        SourceHarness.await(() -> harness.tracker.health().sourceUnavailableSinceMs() != 0, "the source notices the outage");
        assertTrue(dnatTo(harness.fromPod(WEB, 80), LOCAL_POD + ":8080", REMOTE_POD + ":8080"), "the last state keeps serving");
        assertEquals("200", harness.healthz().status(), "not unhealthy before the health timeout");

        harness.clock.advance(SourceHarness.HEALTHZ_TIMEOUT_MS);
        final Http.Response stale = harness.healthz();
        assertEquals("503", stale.status(), "stale for the whole health timeout: /healthz fails");
        assertTrue(stale.body().contains("\"sourceUnavailableSince\""), stale.body());
        assertEquals("200", harness.livez().status(), "/livez stays up: a restart would not bring the API server back");
        assertTrue(dnatTo(harness.fromPod(WEB, 80), LOCAL_POD + ":8080", REMOTE_POD + ":8080"), "still serving");

        // Meanwhile in the cluster: an endpoint goes, a service goes, a service comes.
        api.writer.resources(EndpointSlice.class).inNamespace("default").withName("web-b").delete();
        api.writer.services().inNamespace("default").withName("gone").delete();
        create(plain("late", "10.96.0.40", 80));
        create(slice("late-a", "late", ready(LOCAL_POD, NODE)));

        proxy.restore();
        harness.awaitFromPod(WEB, 80, r -> dnatTo(r, LOCAL_POD + ":8080"), "the slice deleted while away is gone");
        harness.awaitFromPod("10.96.0.30", 80, r -> "DROP".equals(r.verdict()), "the service deleted while away is gone");
        harness.awaitFromPod("10.96.0.40", 80, r -> dnatTo(r, LOCAL_POD + ":8080"), "the service created while away serves");
        SourceHarness.await(() -> harness.tracker.health().sourceUnavailableSinceMs() == 0, "the source is in contact again");
        assertEquals("200", harness.healthz().status(), "healthy again");
    }

    @Test
    void shouldDropUnallocatedAddressesOfTheClustersServiceCidrsAndFollowThem() throws Exception {
        api.writer.resource(serviceCidr("kubernetes", "10.96.0.0/12")).create(); // the API server's default, as the config's
        startSource();
        assertEquals(List.of(Ipv4Cidr.parse("10.96.0.0/12")), harness.states.getFirst().extraServiceCidrs(),
            "the ServiceCIDRs at start are in the first state");
        assertEquals("PASS", harness.fromPod("10.200.0.99", 80).verdict(), "outside every service range: not service traffic");

        // Added: its range is dropped like the config's (its IPv6 range is left out), and its ClusterIPs are served.
        api.writer.resource(serviceCidr("extra", "10.200.0.0/16", "fd00:10:200::/108")).create();
        harness.awaitFromPod("10.200.0.99", 80, r -> "DROP".equals(r.verdict()), "an unallocated address of the new range");
        assertEquals(List.of(Ipv4Cidr.parse("10.96.0.0/12"), Ipv4Cidr.parse("10.200.0.0/16")), harness.states.getLast().extraServiceCidrs());
        create(plain("extra-web", "10.200.0.10", 80));
        create(slice("extra-web-a", "extra-web", ready(LOCAL_POD, NODE)));
        harness.awaitFromPod("10.200.0.10", 80, r -> dnatTo(r, LOCAL_POD + ":8080"), "a ClusterIP of the new range");
        assertEquals("REJECT", harness.fromPod("10.200.0.10", 81).verdict(), "an unknown port of it, as of any ClusterIP");

        // Changed: the drop follows the range.
        api.writer.services().inNamespace("default").withName("extra-web").delete();
        api.writer.resource(serviceCidr("extra", "10.201.0.0/16")).update();
        harness.awaitFromPod("10.201.0.99", 80, r -> "DROP".equals(r.verdict()), "the changed range");
        harness.awaitFromPod("10.200.0.99", 80, r -> "PASS".equals(r.verdict()), "the old range is no longer dropped");

        // Being deleted (a finalizer holds it while ClusterIPs of it are allocated): still a range, as for kube-proxy.
        api.writer.resource(new ServiceCIDRBuilder(serviceCidr("extra", "10.201.0.0/16"))
            .editMetadata().withFinalizers("networking.k8s.io/service-cidr-finalizer").endMetadata().build()).update();
        api.writer.resources(ServiceCIDR.class).withName("extra").delete();
        SourceHarness.await(() -> {
            final ServiceCIDR held = api.writer.resources(ServiceCIDR.class).withName("extra").get();
            return held != null && held.getMetadata().getDeletionTimestamp() != null;
        }, "the mock server marks the ServiceCIDR as being deleted");
        assertEquals("DROP", harness.fromPod("10.201.0.99", 80).verdict(), "a ServiceCIDR being deleted still counts");

        // Deleted: back to the node config's ranges.
        api.writer.resource(new ServiceCIDRBuilder(
            api.writer.resources(ServiceCIDR.class).withName("extra").get()).editMetadata().withFinalizers(List.of()).endMetadata()
            .build()).update();
        harness.awaitFromPod("10.201.0.99", 80, r -> "PASS".equals(r.verdict()), "a deleted ServiceCIDR's range is no longer dropped");
        api.writer.resources(ServiceCIDR.class).withName("kubernetes").delete();
        SourceHarness.await(() -> harness.states.getLast().extraServiceCidrs().isEmpty(), "no ServiceCIDR left");
        assertEquals("DROP", harness.fromPod("10.96.0.99", 80).verdict(), "the node config's range stays: the floor");
    }

    @Test
    void shouldServeTheNodeConfigsRangesAloneWhenTheApiServerHasNoServiceCidrs() throws Exception {
        stop();
        api = MockApi.startWithoutServiceCidrs();
        proxy = new CuttableProxy(new InetSocketAddress("127.0.0.1", api.port()));
        harness = new SourceHarness();
        create(plain("web", WEB, 80));
        create(slice("web-a", "web", ready(LOCAL_POD, NODE)));
        startSource();

        assertTrue(dnatTo(harness.fromPod(WEB, 80), LOCAL_POD + ":8080"), "served as ever");
        assertEquals(List.of(), harness.states.getFirst().extraServiceCidrs());
        assertEquals("DROP", harness.fromPod("10.96.0.99", 80).verdict(), "the node config's range is dropped");
        create(plain("late", "10.96.0.40", 80));
        harness.awaitFromPod("10.96.0.40", 80, r -> "REJECT".equals(r.verdict()), "and the agent follows the API as ever");
    }

    @Test
    void shouldFailHealthzWhileTheNodeIsBeingRemoved() throws Exception {
        api.writer.resource(ApiFixtures.thisNode()).create();
        startSource();
        assertEquals("200", harness.healthz().status());

        api.writer.resource(ApiFixtures.node().editSpec().addNewTaint().withKey(NodeFacts.TO_BE_DELETED_TAINT)
            .withEffect("NoSchedule").endTaint().endSpec().build()).update();
        SourceHarness.await(() -> !harness.tracker.health().nodeEligible(), "the taint makes the node ineligible");
        final Http.Response r = harness.healthz();
        assertEquals("503", r.status());
        assertTrue(r.body().contains("\"nodeEligible\":false"), r.body());

        api.writer.resource(ApiFixtures.thisNode()).update();
        SourceHarness.await(() -> harness.tracker.health().nodeEligible(), "untainted: eligible again");
        assertTrue(nodeChanges.isEmpty(), "a taint is no reason to restart: " + nodeChanges);
    }

    @Test
    void shouldAskForARestartWhenTheNodesPodRangeChanges() throws Exception {
        api.writer.resource(ApiFixtures.thisNode()).create();
        startSource();
        api.writer.resource(ApiFixtures.node().editSpec().withPodCIDR("10.244.7.0/24").withPodCIDRs("10.244.7.0/24").endSpec()
            .build()).update();
        SourceHarness.await(() -> !nodeChanges.isEmpty(), "the source reports the new pod range");
        assertTrue(nodeChanges.getFirst().contains("10.244.7.0/24"), nodeChanges.toString());
    }

    @Test
    void shouldSayWhichServerDidNotAnswerWhenTheFirstListNeverComes() throws Exception {
        proxy.cut();
        final KubeStateSource source = new KubeStateSource(context().startTimeoutMs(300));
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> source.start(state -> { }));
        assertTrue(e.getMessage().contains("127.0.0.1:" + proxy.port()), e.getMessage());
        assertTrue(e.getMessage().contains("cannot list"), e.getMessage());
    }
}
