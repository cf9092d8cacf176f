package dev.ferry.perf.lab;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel baselines' rule sets have kube-proxy's shape (no kernel needed: text only). */
class KernelRulesTest {
    private static final List<String> SERVERS = List.of("10.244.1.11", "10.244.1.12");
    private static final String NODE_IP = "198.18.0.11";

    @Test
    void shouldMapEveryServicePortToItsChainAndEveryEndpointToADnatChainInNftables() {
        final List<BenchServices.ServicePort> ports = BenchServices.all(3, SERVERS, BenchPath.CLUSTER_IP);
        final String nft = KernelRules.nftables(ports, NODE_IP);
        assertEquals(6, ports.size(), "four bench ports and two fillers");
        for (final BenchServices.ServicePort p : ports) {
            assertTrue(nft.contains(p.clusterIp() + " . " + p.l4() + " . " + p.port() + " : goto " + KernelRules.serviceChain(p)), p.id());
            assertTrue(nft.contains("numgen random mod " + p.endpoints().size() + " vmap"), p.id());
            for (final BenchServices.Endpoint e : p.endpoints()) {
                assertTrue(nft.contains("\tchain " + KernelRules.endpointChain(p, e) + " {\n\t\tip saddr " + e.ip()
                    + " jump mark-for-masquerade\n\t\tmeta l4proto " + p.l4() + " dnat to " + e.ip() + ":" + e.port()), e.toString());
            }
        }
        assertTrue(nft.contains("ip daddr { 10.96.0.0/12 } drop"), "unallocated ClusterIPs dropped as kube-proxy does");
        assertTrue(nft.startsWith("# kube-proxy nftables mode") && nft.contains("delete table ip kube-proxy"), "a load replaces the table");
    }

    @Test
    void shouldMasqueradeTheExternalPathsThroughAnExternalChainFromNodePortsAndTheLoadBalancerIp() {
        final List<BenchServices.ServicePort> ports = BenchServices.all(2, SERVERS, BenchPath.NODE_PORT);
        final String nft = KernelRules.nftables(ports, NODE_IP);
        final BenchServices.ServicePort crr = ports.stream().filter(p -> p.portName().equals("crr")).findFirst().orElseThrow();
        assertEquals(List.of(new BenchServices.Endpoint(SERVERS.get(0), crr.port())), crr.endpoints(), "one backend on a masqueraded path");
        assertTrue(nft.contains("tcp . " + BenchPath.nodePort(crr.port()) + " : goto " + KernelRules.externalChain(crr)), nft);
        assertTrue(nft.contains(BenchPath.LOAD_BALANCER_IP + " . tcp . " + crr.port() + " : goto " + KernelRules.externalChain(crr)), nft);
        assertTrue(nft.contains("\tchain " + KernelRules.externalChain(crr) + " {\n\t\tjump mark-for-masquerade\n\t\tgoto "
            + KernelRules.serviceChain(crr) + "\n"), nft);
        assertTrue(nft.contains("comment \"IPs that accept NodePort traffic\"\n\t\telements = {\n\t\t\t" + NODE_IP), nft);
        assertThrows(IllegalArgumentException.class, () -> KernelRules.iptables(ports));
        final String clusterOnly = KernelRules.nftables(BenchServices.all(2, SERVERS, BenchPath.HAIRPIN), NODE_IP);
        assertTrue(!clusterOnly.contains("\tchain external-"), "hairpin needs no external chain");
    }

    @Test
    void shouldWalkKubeServicesInOrderAndSplitEndpointsByStatisticProbabilitiesInIptables() {
        final List<BenchServices.ServicePort> ports = BenchServices.all(2, SERVERS, BenchPath.CLUSTER_IP);
        final String rules = KernelRules.iptables(ports);
        final BenchServices.ServicePort filler = BenchServices.filler(1);
        assertTrue(rules.contains("-A KUBE-SERVICES -m comment --comment \"bench/svc-1:http cluster IP\" -d " + filler.clusterIp()
            + "/32 -p tcp -m tcp --dport 80 -j " + KernelRules.svcChain(filler)), rules);
        assertTrue(rules.contains("--probability 0.10000000000 -j " + KernelRules.sepChain(filler, filler.endpoints().get(0))));
        assertTrue(rules.contains("--probability 0.50000000000 -j " + KernelRules.sepChain(filler, filler.endpoints().get(8))));
        assertTrue(rules.contains("-j DNAT --to-destination " + filler.endpoints().get(9).ip() + ":8080"));
        assertTrue(rules.indexOf("bench/bench:udp cluster IP\" -d") < rules.indexOf("bench/svc-1:http cluster IP\" -d"),
            "the bench service comes first in KUBE-SERVICES");
        assertEquals(2, rules.split("\nCOMMIT\n", -1).length - 1, "nat and filter tables");
    }

    @Test
    void shouldRewriteKubeServicesWholeAndAddOnlyTheNewChainsForAChange() {
        final List<BenchServices.ServicePort> ports = BenchServices.all(2, SERVERS, BenchPath.CLUSTER_IP);
        final BenchServices.ServicePort added = BenchServices.change(1, SERVERS.get(0));
        final String delta = KernelRules.iptablesAdd(ports, added);
        assertEquals(ports.size() + 1, delta.lines().filter(l -> l.startsWith("-A KUBE-SERVICES") && l.contains("cluster IP")).count());
        assertTrue(delta.contains(":" + KernelRules.svcChain(added) + " - [0:0]"));
        assertTrue(!delta.contains(":" + KernelRules.svcChain(ports.get(0)) + " "), "existing chains are left alone");
        final String nft = KernelRules.nftablesAdd(added);
        assertTrue(nft.contains("add element ip kube-proxy service-ips { 10.96.100.21 . tcp . 80 : goto " + KernelRules.serviceChain(added)), nft);
    }

    @Test
    void shouldReadThePathBackFromARunsSettings() {
        assertEquals(BenchPath.HAIRPIN, BenchPath.fromSettings("path hairpin; window 300.0 s after 5.0 s warmup"));
        assertEquals(BenchPath.CLUSTER_IP, BenchPath.fromSettings("window 5.0 s after 2.0 s warmup"), "runs from before --path");
        assertThrows(IllegalArgumentException.class, () -> BenchPath.parse("nodeport"));
    }

    @Test
    void shouldHashLikeKubeProxyIntoEightBase32Characters() {
        final String h = BenchServices.hash("bench/svc-1/tcp/http");
        assertEquals(8, h.length());
        assertTrue(h.matches("[A-Z2-7]{8}"), h);
    }
}
