package dev.ferry.control.dns;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.Protocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DNS server on 127.0.0.1 (a free port) queried by {@code dig}, over UDP and TCP, for every
 * record the Kubernetes DNS specification asks for, the negative answers, forwarding to a fake
 * upstream on loopback, truncation, and malformed input.
 */
class DnsServerDigTest {
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private FakeUpstream upstream;
    private DnsServer server;
    private InetSocketAddress address;

    static ServiceNames names() {
        final List<ServiceNames.Entry> entries = new ArrayList<>();
        entries.add(new ServiceNames.Entry("default", "web", ServiceNames.Kind.CLUSTER_IP, List.of(Ipv4.parse("10.96.0.10")),
            List.of(new ServiceNames.Port("http", Protocol.TCP, 80), new ServiceNames.Port("", Protocol.TCP, 8443)), List.of(), null));
        entries.add(new ServiceNames.Entry("default", "db", ServiceNames.Kind.HEADLESS, List.of(),
            List.of(new ServiceNames.Port("pg", Protocol.TCP, 5432)),
            List.of(new ServiceNames.Endpoint(Ipv4.parse("10.244.1.5"), "db-0", List.of(new ServiceNames.Port("pg", Protocol.TCP, 5432))),
                new ServiceNames.Endpoint(Ipv4.parse("10.244.1.6"), null, List.of(new ServiceNames.Port("pg", Protocol.TCP, 5432)))),
            null));
        entries.add(new ServiceNames.Entry("default", "idle", ServiceNames.Kind.HEADLESS, List.of(), List.of(), List.of(), null));
        entries.add(new ServiceNames.Entry("default", "ext", ServiceNames.Kind.EXTERNAL_NAME, List.of(), List.of(), List.of(),
            "example.org"));
        entries.add(new ServiceNames.Entry("shop", "alias", ServiceNames.Kind.EXTERNAL_NAME, List.of(), List.of(), List.of(),
            "web.default.svc.cluster.local"));
        return new ServiceNames(entries);
    }

    @BeforeEach
    void start() throws IOException {
        Dig.requireDig();
        upstream = new FakeUpstream();
        server = DnsServer.start(new DnsServer.Context().addresses(List.of(ANY_PORT)).upstream(upstream.address()));
        server.serve(names());
        address = server.udpAddresses().getFirst();
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerTheClusterIpOfAService(final boolean tcp) {
        final Dig.Answer answer = Dig.query(address, tcp, "web.default.svc.cluster.local", "A");
        assertEquals("NOERROR", answer.status());
        assertEquals(List.of("web.default.svc.cluster.local. 5 IN A 10.96.0.10"), answer.answers());
        assertTrue(answer.flags().contains("aa"), answer.flags());
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerInAnyCase(final boolean tcp) {
        assertEquals(List.of("10.96.0.10"), Dig.query(address, tcp, "WEB.Default.SVC.cluster.LOCAL.", "A").data());
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerTheReadyEndpointsOfAHeadlessServiceAndTheirHostnames(final boolean tcp) {
        assertEquals(List.of("10.244.1.5", "10.244.1.6"), Dig.query(address, tcp, "db.default.svc.cluster.local", "A").data());
        assertEquals(List.of("10.244.1.5"), Dig.query(address, tcp, "db-0.db.default.svc.cluster.local", "A").data());
        assertEquals(List.of("10.244.1.6"), Dig.query(address, tcp, "10-244-1-6.db.default.svc.cluster.local", "A").data());
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerSrvForNamedPortsWithTheTargetsAddressesAdditional(final boolean tcp) {
        final Dig.Answer clusterIp = Dig.query(address, tcp, "_http._tcp.web.default.svc.cluster.local", "SRV");
        assertEquals(List.of("0 100 80 web.default.svc.cluster.local."), clusterIp.data());
        assertEquals(List.of("web.default.svc.cluster.local. 5 IN A 10.96.0.10"), clusterIp.additional());
        final Dig.Answer headless = Dig.query(address, tcp, "_pg._tcp.db.default.svc.cluster.local", "SRV");
        assertEquals(List.of("0 50 5432 db-0.db.default.svc.cluster.local.", "0 50 5432 10-244-1-6.db.default.svc.cluster.local."),
            headless.data());
        assertEquals(2, headless.additional().size(), headless.additional().toString());
        // an unnamed port has no SRV record; the name of a protocol the port does not use does not exist
        assertEquals("NXDOMAIN", Dig.query(address, tcp, "_http._udp.web.default.svc.cluster.local", "SRV").status());
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerACnameForAnExternalNameService(final boolean tcp) {
        final Dig.Answer cname = Dig.query(address, tcp, "ext.default.svc.cluster.local", "CNAME");
        assertEquals(List.of("ext.default.svc.cluster.local. 5 IN CNAME example.org."), cname.answers());
        final Dig.Answer a = Dig.query(address, tcp, "ext.default.svc.cluster.local", "A");
        assertEquals("NOERROR", a.status());
        assertEquals(List.of("example.org."), a.data());
        // a target inside the cluster domain is followed
        assertEquals(List.of("web.default.svc.cluster.local.", "10.96.0.10"), Dig.query(address, tcp, "alias.shop.svc.cluster.local", "A").data());
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerPtrForClusterIpsAndHeadlessEndpoints(final boolean tcp) {
        assertEquals(List.of("web.default.svc.cluster.local."), Dig.query(address, tcp, "-x", "10.96.0.10").data());
        assertEquals(List.of("db-0.db.default.svc.cluster.local."), Dig.query(address, tcp, "-x", "10.244.1.5").data());
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerNxdomainForUnknownNamesAndNodataForNamesWithoutTheType(final boolean tcp) {
        final Dig.Answer unknown = Dig.query(address, tcp, "nope.default.svc.cluster.local", "A");
        assertEquals("NXDOMAIN", unknown.status());
        assertEquals(1, unknown.authority().size(), "the SOA for negative caching: " + unknown.authority());
        assertTrue(unknown.authority().getFirst().contains(" SOA ns.dns.cluster.local. hostmaster.cluster.local. "), unknown.authority().toString());
        final Dig.Answer aaaa = Dig.query(address, tcp, "web.default.svc.cluster.local", "AAAA");
        assertEquals("NOERROR", aaaa.status());
        assertEquals(List.of(), aaaa.answers());
        final Dig.Answer namespace = Dig.query(address, tcp, "default.svc.cluster.local", "A");
        assertEquals("NOERROR", namespace.status(), "an empty non-terminal exists");
        assertEquals(List.of(), namespace.answers());
        assertEquals("NXDOMAIN", Dig.query(address, tcp, "idle.default.svc.cluster.local", "A").status(),
            "a headless service without ready endpoints (the specification's rule)");
        assertEquals("NXDOMAIN", Dig.query(address, tcp, "web.nosuchns.svc.cluster.local", "A").status());
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerTheSchemaVersionAndTheSoa(final boolean tcp) {
        assertEquals(List.of("\"1.0.1\""), Dig.query(address, tcp, "dns-version.cluster.local", "TXT").data());
        final Dig.Answer soa = Dig.query(address, tcp, "cluster.local", "SOA");
        assertEquals(1, soa.answers().size(), soa.answers().toString());
        assertTrue(soa.answers().getFirst().endsWith(" 7200 1800 86400 5"), soa.answers().toString());
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {false, true})
    void shouldForwardNamesOutsideTheDomainToTheUpstreamOverTheClientsTransport(final boolean tcp) {
        final Dig.Answer answer = Dig.query(address, tcp, "www.example.com", "A");
        assertEquals("NOERROR", answer.status());
        assertEquals(List.of(FakeUpstream.ADDRESS), answer.data());
        assertEquals(List.of((tcp ? "tcp" : "udp") + " www.example.com"), upstream.questions);
        // a reverse name that is no ClusterIP's is the upstream's too
        assertEquals("NOERROR", Dig.query(address, tcp, "-x", "192.0.2.1").status());
        assertEquals(2, server.counters().forwardedTotal(), "both forwarded");
    }

    @Test
    void shouldRefuseNamesOutsideTheDomainWithoutAnUpstream() {
        try (DnsServer alone = DnsServer.start(new DnsServer.Context().addresses(List.of(ANY_PORT)))) {
            final Dig.Answer answer = Dig.query(alone.udpAddresses().getFirst(), false, "www.example.com", "A");
            assertEquals("REFUSED", answer.status());
            assertEquals(1L, alone.counters().responsesByRcode().get("REFUSED"));
        }
    }

    @Test
    void shouldAnswerServfailWhenTheUpstreamDoesNotAnswer() {
        upstream.goSilent();
        final Dig.Answer answer = Dig.query(address, false, "www.example.com", "A", "+time=6");
        assertEquals("SERVFAIL", answer.status());
        assertEquals(1, server.counters().forwardFailuresTotal());
    }

    @Test
    void shouldTruncateAUdpAnswerThatDoesNotFitAndServeItWholeOverTcp() {
        final List<ServiceNames.Endpoint> endpoints = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            endpoints.add(new ServiceNames.Endpoint(Ipv4.parse("10.244.2." + i), null, List.of()));
        }
        server.serve(new ServiceNames(List.of(new ServiceNames.Entry("default", "big", ServiceNames.Kind.HEADLESS, List.of(), List.of(),
            endpoints, null))));
        final Dig.Answer truncated = Dig.query(address, false, "big.default.svc.cluster.local", "A", "+ignore", "+noedns");
        assertTrue(truncated.flags().contains("tc"), truncated.flags());
        assertEquals(List.of(), truncated.answers());
        assertEquals(1, server.counters().truncatedTotal());
        // dig retries over TCP by itself, as a stub resolver does
        assertEquals(100, Dig.query(address, false, "big.default.svc.cluster.local", "A", "+noedns").answers().size());
    }

    @Test
    void shouldAnswerFormerrToAMalformedQueryAndDropWhatIsNoQuery() throws IOException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(3000);
            socket.connect(address);
            // a header claiming one question, then a label running past the end
            final byte[] malformed = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 30, 'a', 'b'};
            socket.send(new DatagramPacket(malformed, malformed.length));
            final DatagramPacket reply = new DatagramPacket(new byte[512], 512);
            socket.receive(reply);
            assertEquals(12, reply.getLength());
            assertEquals(0x12, reply.getData()[0]);
            assertEquals(0x34, reply.getData()[1]);
            assertEquals(1, reply.getData()[3] & 0xF, "FORMERR");
            final byte[] tooShort = {1, 2, 3};
            socket.send(new DatagramPacket(tooShort, tooShort.length));
            final byte[] response = {0x12, 0x34, (byte) 0x81, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0};
            socket.send(new DatagramPacket(response, response.length));
        }
        // the server still answers, and counted the two it dropped
        assertEquals(List.of("10.96.0.10"), Dig.query(address, false, "web.default.svc.cluster.local", "A").data());
        assertEquals(2, server.counters().droppedTotal());
        assertEquals(1L, server.counters().responsesByRcode().get("FORMERR"));
    }

    @Test
    void shouldCountQueriesByTypeAndResponsesByRcode() {
        Dig.query(address, false, "web.default.svc.cluster.local", "A");
        Dig.query(address, true, "_http._tcp.web.default.svc.cluster.local", "SRV");
        Dig.query(address, false, "nope.default.svc.cluster.local", "A");
        assertEquals(2L, server.counters().queriesByType().get("A"));
        assertEquals(1L, server.counters().queriesByType().get("SRV"));
        assertEquals(2L, server.counters().responsesByRcode().get("NOERROR"));
        assertEquals(1L, server.counters().responsesByRcode().get("NXDOMAIN"));
    }
}
