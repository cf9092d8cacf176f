package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.lb.RandomSelector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static dev.ferry.dataplane.service.Fixtures.cidrs;
import static dev.ferry.dataplane.service.Fixtures.ip;
import static dev.ferry.dataplane.service.Fixtures.ips;
import static dev.ferry.dataplane.service.Fixtures.notServing;
import static dev.ferry.dataplane.service.Fixtures.servingTerminating;
import static dev.ferry.dataplane.service.Fixtures.svc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kube-proxy's own nftables-mode packet-flow cases, run through Ferry's {@link ServiceTable} and
 * {@link ServiceRouter}. The source is kubernetes/kubernetes {@code pkg/proxy/nftables/proxier_test.go}
 * (commit 030880a5dc5449403c6d1f0aa146a7dc21d6c6dc): every IPv4 flow of every function that calls
 * {@code runPacketFlowTests}, with that function's services, endpoints and node, one table per
 * function. Only the cases are taken (the data); the expectations are what the Go test expects.
 *
 * <p>A row is {@code setup | flow | src | proto | dst | port | output | masq | note}:
 * <ul>
 *   <li>setup: which services, endpoints and node the flow runs against ({@link #SETUPS}, built
 *       per Go function below; a Go sub-case with other services or endpoints is its own setup);</li>
 *   <li>flow: the Go {@code t.Run} path under the function, sub-case then the flow's own name, so
 *       that {@code TestX} plus this finds the original (two flows of TestClusterIPGeneral share a
 *       name in Go; the protocol tells them apart);</li>
 *   <li>src, proto, dst, port: the packet (proto TCP where the Go case leaves it unset);</li>
 *   <li>output: the Go case's {@code output}: endpoints ("ip:port, ip:port", every endpoint the
 *       tracer can reach) mean verdict DNAT with exactly that candidate set, whatever the order;
 *       {@code REJECT} and {@code DROP} mean those verdicts; {@code ""} (no rule matched, the
 *       packet is accepted untouched) means PASS;</li>
 *   <li>masq: the Go case's {@code masq}; Ferry's {@link MasqueradeReason} must be NONE for
 *       false and anything else for true;</li>
 *   <li>note: {@code -}, or {@code differs REASON: ...} where Ferry deliberately differs, as
 *       docs/ARCHITECTURE.md "Kubernetes semantics" documents: the row then holds Ferry's
 *       expectation, REASON is the masquerade reason Ferry must give, and the note says what
 *       kube-proxy's test expects instead.</li>
 * </ul>
 *
 * <p>The node is NewFakeProxier's: name {@code test-node}; nodeIP 192.168.0.2 (Ferry's
 * {@code nodeIPs}, as API mode takes the Node's first InternalIP); local detector by CIDR
 * 10.0.0.0/8 (Ferry's {@code clusterCIDRs}; empty for the Go cases that install the no-op
 * detector); no podCIDR; service CIDR 172.30.0.0/16; nodePortAddresses 192.168.0.2/32; masqueradeAll off
 * unless the case sets it. {@link #LOCAL} is the tracer's answer to {@code fib saddr type local}
 * (helpers_test.go: {@code nftablesTracer} matches it when the source is in the nodeIPs it is
 * given, and every case gives it {@code testNodeIPs}): 192.168.0.2, 192.168.1.2 and
 * 192.168.99.11, the addresses of the fake eth0. The fake lo's 127.0.0.1/8 is not among them, so
 * not here either; no flow comes from it.
 *
 * <p>Translation choices, each where a Go concept has no one-to-one Ferry counterpart:
 * <ul>
 *   <li>The Go NodePorts (3001-3003) lie below the API server's default range. The range matters
 *       only to Ferry's control side (validation) and host routing (which ports are steered into
 *       ferry0), not to the table or the router; the node here claims 3000-32767 so that a real
 *       Ferry would be handed these packets too.</li>
 *   <li>kube-proxy keeps a healthCheckNodePort only for LoadBalancer services with
 *       externalTrafficPolicy Local (NeedsHealthCheck); Ferry's API source drops it likewise and
 *       its manifest decoder refuses it. The Go services
 *       that set one with policy Cluster (TestTerminatingEndpointsTrafficPolicyCluster,
 *       svc1 and svc3 of TestInternalExternalMasquerade) get none here. No Go flow targets a
 *       healthCheckNodePort.</li>
 *   <li>kube-proxy's nodePortAddresses filter every address of the node's interfaces, Ferry's
 *       the node config's {@code nodeIPs}. For TestNodePorts' "ipv4, multiple nodeport-addresses"
 *       the node config therefore lists 192.168.1.2 beside 192.168.0.2, as an operator whose
 *       nodePortAddresses name that address would; the IPv6 range of that case is dropped.</li>
 *   <li>Two endpoints with one address and port in one slice (TestTerminatingEndpoints...'s "no
 *       usable endpoints on any node") become one, the first, as Ferry's compiler keeps it.</li>
 *   <li>The tracer follows every endpoint branch and ORs their masquerade marks; Ferry picks one
 *       endpoint per connection and masquerades a hairpin only when it picked the client itself.
 *       Each row is routed 64 times and every decision must match; the one hairpin row has a
 *       single endpoint, so the two agree.</li>
 * </ul>
 *
 * <p>Coverage: 199 IPv4 flows from the 10 functions in {@link #EXPECTED_FLOWS}. The 8 IPv6
 * flows (TestNodePorts' "ipv6" and "ipv6, multiple nodeport-addresses", 4 each) are skipped: Ferry
 * routes IPv4 only for now. No flow is out of scope: every packet here is one Ferry's host routing
 * hands to ferry0 or one the router must pass (the secondary node IP's NodePort). Functions of the
 * Go file without {@code runPacketFlowTests} (TestOverallNFTablesRules, TestSyncProxyRulesRepeated,
 * TestSyncProxyRulesStartup, TestBadIPs and the rest) check rule text or internal maps, not
 * packet fates, and are not ported.
 *
 * <p>The three {@code differs} rows: TestInternalExternalMasquerade's "no LocalTrafficDetector"
 * sub-case expects no masquerade for the node's own connections to a ClusterIP; Ferry
 * masquerades them ({@link MasqueradeReason#NODE_SOURCE}), because their replies would go to the
 * node's own port, which nothing steers into ferry0 (docs/ARCHITECTURE.md, "Kubernetes
 * semantics": "three of kube-proxy's 54 no-detector packet-flow cases differ by this").
 */
class KubeProxyFlowTest {
    private static final String NODE_IP = "192.168.0.2";
    private static final String NODE_IP_ALT = "192.168.1.2";
    private static final String EXTERNAL_IP = "192.168.99.11";

    /** {@code fib saddr type local} as kube-proxy's tracer answers it: the IPv4 {@code testNodeIPs}. */
    private static final LocalAddresses LOCAL = LocalAddresses.of(cidrs(NODE_IP + "/32", NODE_IP_ALT + "/32", EXTERNAL_IP + "/32"));

    /** How many IPv4 flows each Go function has; a row lost or added in editing fails {@link #shouldPortEveryIpv4Flow}. */
    private static final Map<String, Integer> EXPECTED_FLOWS = expectedFlows();

    private static Map<String, Integer> expectedFlows() {
        final Map<String, Integer> m = new LinkedHashMap<>();
        m.put("TestNoEndpointsReject", 6);
        m.put("TestClusterIPGeneral", 10);
        m.put("TestLoadBalancer", 13);
        m.put("TestNodePorts", 8);
        m.put("TestExternalTrafficPolicyLocal", 7);
        m.put("TestExternalTrafficPolicyCluster", 7);
        m.put("TestInternalTrafficPolicy", 8);
        m.put("TestTerminatingEndpointsTrafficPolicyLocal", 16);
        m.put("TestTerminatingEndpointsTrafficPolicyCluster", 16);
        m.put("TestInternalExternalMasquerade", 108);
        return m;
    }

    // ---- the node ----

    /** NewFakeProxier's IPv4 node; {@code localDetector} false is the no-op detector (no clusterCIDRs). */
    private static NodeSpec node(final boolean masqueradeAll, final boolean localDetector) {
        return node(masqueradeAll, localDetector, List.of(NODE_IP), List.of(NODE_IP + "/32"));
    }

    private static NodeSpec node(final boolean masqueradeAll, final boolean localDetector, final List<String> nodeIps,
                                 final List<String> nodePortAddresses) {
        return new NodeSpec("test-node", ips(nodeIps.toArray(String[]::new)),
            localDetector ? cidrs("10.0.0.0/8") : List.of(), null, cidrs("172.30.0.0/16"), 3000, 32767,
            cidrs(nodePortAddresses.toArray(String[]::new)), masqueradeAll);
    }

    private static final NodeSpec STD = node(false, true);

    // ---- the services, per Go function ----

    /** TestNoEndpointsReject: a LoadBalancer with an externalIP, a NodePort and no endpoints. */
    private static List<ServicePortSpec> noEndpointsReject() {
        return List.of(svc("svc1", Protocol.TCP, 80).namespace("ns1").portName("p80").clusterIp("172.30.0.41")
            .externalIp(EXTERNAL_IP).nodePort(3001).loadBalancerIp("1.2.3.4").build());
    }

    /** TestClusterIPGeneral: svc1 with one local endpoint; svc2's five ports on two endpoints, TCP 443 and 53 with target ports. */
    private static List<ServicePortSpec> clusterIpGeneral() {
        final List<ServicePortSpec> specs = new ArrayList<>();
        specs.add(svc("svc1", Protocol.TCP, 80).namespace("ns1").portName("http").clusterIp("172.30.0.41")
            .ready("10.180.0.1", 80, true).build());
        final Object[][] ports = {
            {"http", Protocol.TCP, 80, 80}, {"https", Protocol.TCP, 443, 8443}, {"dns-udp", Protocol.UDP, 53, 53},
            {"dns-tcp", Protocol.TCP, 53, 5353}, {"dns-sctp", Protocol.SCTP, 53, 53}};
        for (final Object[] p : ports) {
            final int target = (Integer) p[3];
            specs.add(svc("svc2", (Protocol) p[1], (Integer) p[2]).namespace("ns2").portName((String) p[0])
                .clusterIp("172.30.0.42").ready("10.180.0.1", target, true).ready("10.180.2.1", target, false).build());
        }
        return specs;
    }

    /** TestLoadBalancer: two LB IPs, source ranges holding the node IP, one endpoint elsewhere (no nodeName). */
    private static List<ServicePortSpec> loadBalancer() {
        return List.of(svc("svc1", Protocol.TCP, 80).namespace("ns1").portName("p80").clusterIp("172.30.0.41").nodePort(3001)
            .loadBalancerIp("1.2.3.4").loadBalancerIp("5.6.7.8").sourceRange("192.168.0.0/24").sourceRange("203.0.113.0/25")
            .ready("10.180.0.1", 80, false).build());
    }

    /** TestNodePorts (IPv4): a NodePort with one endpoint elsewhere and one local. */
    private static List<ServicePortSpec> nodePorts() {
        return List.of(svc("svc1", Protocol.TCP, 80).namespace("ns1").portName("p80").clusterIp("172.30.0.41").nodePort(3001)
            .ready("10.180.0.1", 80, false).ready("10.180.2.1", 80, true).build());
    }

    /** TestExternalTrafficPolicyLocal / ...Cluster: a LoadBalancer with an externalIP, a NodePort, one endpoint elsewhere, one local. */
    private static List<ServicePortSpec> externalTrafficPolicy(final boolean local) {
        final Fixtures.Svc s = svc("svc1", Protocol.TCP, 80).namespace("ns1").portName("p80").clusterIp("172.30.0.41")
            .externalIp(EXTERNAL_IP).nodePort(3001).loadBalancerIp("1.2.3.4")
            .ready("10.180.0.1", 80, false).ready("10.180.2.1", 80, true);
        return List.of(local ? s.externalLocal().healthCheckNodePort(30000).build() : s.build());
    }

    /** TestInternalTrafficPolicy: a ClusterIP service; {@code localNodes[i]} says whether 10.0.1.(i+1) is on this node. */
    private static List<ServicePortSpec> internalTrafficPolicy(final boolean local, final boolean... localNodes) {
        final Fixtures.Svc s = svc("svc1", Protocol.TCP, 80).namespace("ns1").clusterIp("172.30.1.1");
        for (int i = 0; i < localNodes.length; i++) {
            s.ready("10.0.1." + (i + 1), 80, localNodes[i]);
        }
        return List.of(local ? s.internalLocal().build() : s.build());
    }

    /** TestTerminatingEndpointsTrafficPolicyLocal / ...Cluster: a LoadBalancer without NodePort, the sub-case's endpoints. */
    private static List<ServicePortSpec> terminating(final boolean local, final EndpointSpec... endpoints) {
        final Fixtures.Svc s = svc("svc1", Protocol.TCP, 80).namespace("ns1").clusterIp("172.30.1.1").loadBalancerIp("1.2.3.4");
        for (final EndpointSpec e : endpoints) {
            s.endpoint(e);
        }
        return List.of(local ? s.externalLocal().healthCheckNodePort(30000).build() : s.build());
    }

    /** TestInternalExternalMasquerade: svc1 plain, svc2 externalTrafficPolicy Local, svc3 internalTrafficPolicy Local; one local endpoint and one remote each. */
    private static List<ServicePortSpec> internalExternalMasquerade() {
        return List.of(
            svc("svc1", Protocol.TCP, 80).namespace("ns1").portName("p80").clusterIp("172.30.0.41").nodePort(3001)
                .loadBalancerIp("1.2.3.4").ready("10.180.0.1", 80, true).ready("10.180.1.1", 80, false).build(),
            svc("svc2", Protocol.TCP, 80).namespace("ns2").portName("p80").clusterIp("172.30.0.42").nodePort(3002)
                .healthCheckNodePort(30002).externalLocal().loadBalancerIp("5.6.7.8")
                .ready("10.180.0.2", 80, true).ready("10.180.1.2", 80, false).build(),
            svc("svc3", Protocol.TCP, 80).namespace("ns3").portName("p80").clusterIp("172.30.0.43").nodePort(3003)
                .internalLocal().loadBalancerIp("9.10.11.12")
                .ready("10.180.0.3", 80, true).ready("10.180.1.3", 80, false).build());
    }

    private static EndpointSpec readyEp(final String address, final boolean local) {
        return Fixtures.ready(address, 80, local);
    }

    private static EndpointSpec terminatingEp(final String address, final boolean local) {
        return servingTerminating(address, 80, local);
    }

    private static EndpointSpec notServingEp(final String address, final boolean local) {
        return notServing(address, 80, local);
    }

    /** Every setup a row can name. */
    private static final Map<String, ServiceTable> SETUPS = setups();

    private static Map<String, ServiceTable> setups() {
        final Map<String, ServiceTable> m = new LinkedHashMap<>();
        m.put("no-endpoints", ServiceTable.compile(STD, noEndpointsReject()));
        m.put("general", ServiceTable.compile(STD, clusterIpGeneral()));
        m.put("lb", ServiceTable.compile(STD, loadBalancer()));
        // TestNodePorts "ipv4": the default nodePortAddresses; "ipv4, multiple nodeport-addresses":
        // 192.168.0.0/24 and 192.168.1.0/24 (its 2001:db8::/64 is IPv6).
        m.put("np-default", ServiceTable.compile(STD, nodePorts()));
        m.put("np-multi", ServiceTable.compile(node(false, true, List.of(NODE_IP, NODE_IP_ALT),
            List.of("192.168.0.0/24", "192.168.1.0/24")), nodePorts()));
        m.put("etp-local", ServiceTable.compile(STD, externalTrafficPolicy(true)));
        m.put("etp-cluster", ServiceTable.compile(STD, externalTrafficPolicy(false)));
        // TestInternalTrafficPolicy: 10.0.1.1-3 on the nodes the sub-case names; then its slice deleted.
        m.put("itp-cluster", ServiceTable.compile(STD, internalTrafficPolicy(false, true, false, false)));
        m.put("itp-local-one", ServiceTable.compile(STD, internalTrafficPolicy(true, true, false, false)));
        m.put("itp-local-multi", ServiceTable.compile(STD, internalTrafficPolicy(true, true, true, false)));
        m.put("itp-local-none", ServiceTable.compile(STD, internalTrafficPolicy(true, false, false, false)));
        m.put("itp-cluster-deleted", ServiceTable.compile(STD, internalTrafficPolicy(false)));
        m.put("itp-local-deleted", ServiceTable.compile(STD, internalTrafficPolicy(true)));
        for (final boolean local : new boolean[] {true, false}) {
            final String p = local ? "tl-" : "tc-";
            // The remote node is "node-1" in the Local function, "another-node" in the Cluster one: both not this node.
            m.put(p + "ready", ServiceTable.compile(STD, terminating(local,
                readyEp("10.0.1.1", true), readyEp("10.0.1.2", true), terminatingEp("10.0.1.3", local),
                notServingEp("10.0.1.4", local), readyEp("10.0.1.5", false))));
            m.put(p + "terminating", ServiceTable.compile(STD, terminating(local,
                terminatingEp("10.0.1.2", true), terminatingEp("10.0.1.3", true), notServingEp("10.0.1.4", local),
                local ? readyEp("10.0.1.5", false) : terminatingEp("10.0.1.5", false))));
            m.put(p + "remote", ServiceTable.compile(STD, terminating(local, terminatingEp("10.0.1.5", false))));
            // Go lists 10.0.1.5 twice, here and on node-1, neither serving; the compiler keeps the first.
            m.put(p + "unusable", ServiceTable.compile(STD, terminating(local, notServingEp("10.0.1.5", true))));
            m.put(p + "deleted", ServiceTable.compile(STD, terminating(local)));
        }
        m.put("iem-base", ServiceTable.compile(node(false, true), internalExternalMasquerade()));
        m.put("iem-nodetector", ServiceTable.compile(node(false, false), internalExternalMasquerade()));
        m.put("iem-masqall", ServiceTable.compile(node(true, true), internalExternalMasquerade()));
        m.put("iem-masqall-nodetector", ServiceTable.compile(node(true, false), internalExternalMasquerade()));
        return m;
    }

    // ---- the flows, per Go function: setup | flow | src | proto | dst | port | output | masq | note ----

    /** TestNoEndpointsReject: 6 flows. */
    private static final String NO_ENDPOINTS_REJECT = """
        no-endpoints | pod to cluster IP with no endpoints           | 10.0.0.2    | TCP | 172.30.0.41   | 80   | REJECT | false | -
        no-endpoints | external to external IP with no endpoints     | 203.0.113.2 | TCP | 192.168.99.11 | 80   | REJECT | false | -
        no-endpoints | pod to NodePort with no endpoints             | 10.0.0.2    | TCP | 192.168.0.2   | 3001 | REJECT | false | -
        no-endpoints | external to NodePort with no endpoints        | 203.0.113.2 | TCP | 192.168.0.2   | 3001 | REJECT | false | -
        no-endpoints | pod to LoadBalancer IP with no endpoints      | 10.0.0.2    | TCP | 1.2.3.4       | 80   | REJECT | false | -
        no-endpoints | external to LoadBalancer IP with no endpoints | 203.0.113.2 | TCP | 1.2.3.4       | 80   | REJECT | false | -
        """;

    /** TestClusterIPGeneral: 10 flows. */
    private static final String CLUSTER_IP_GENERAL = """
        general | simple clusterIP                                      | 10.180.0.2 | TCP  | 172.30.0.41 | 80  | 10.180.0.1:80                    | false | -
        general | hairpin to cluster IP                                 | 10.180.0.1 | TCP  | 172.30.0.41 | 80  | 10.180.0.1:80                    | true  | -
        general | clusterIP with multiple endpoints                     | 10.180.0.2 | TCP  | 172.30.0.42 | 80  | 10.180.0.1:80, 10.180.2.1:80     | false | -
        general | clusterIP with TargetPort                             | 10.180.0.2 | TCP  | 172.30.0.42 | 443 | 10.180.0.1:8443, 10.180.2.1:8443 | false | -
        general | clusterIP with TCP, UDP, and SCTP on same port (TCP)  | 10.180.0.2 | TCP  | 172.30.0.42 | 53  | 10.180.0.1:5353, 10.180.2.1:5353 | false | -
        general | clusterIP with TCP, UDP, and SCTP on same port (TCP)  | 10.180.0.2 | UDP  | 172.30.0.42 | 53  | 10.180.0.1:53, 10.180.2.1:53     | false | -
        general | clusterIP with TCP, UDP, and SCTP on same port (SCTP) | 10.180.0.2 | SCTP | 172.30.0.42 | 53  | 10.180.0.1:53, 10.180.2.1:53     | false | -
        general | TCP-only port does not match UDP traffic              | 10.180.0.2 | UDP  | 172.30.0.42 | 80  | REJECT                           | false | -
        general | svc1 does not accept svc2's ports                     | 10.180.0.2 | TCP  | 172.30.0.41 | 443 | REJECT                           | false | -
        general | packet to unallocated cluster ip                      | 10.180.0.2 | TCP  | 172.30.0.50 | 80  | DROP                             | false | -
        """;

    /** TestLoadBalancer: 13 flows. */
    private static final String LOAD_BALANCER = """
        lb | pod to cluster IP                                     | 10.0.0.2      | TCP | 172.30.0.41 | 80   | 10.180.0.1:80 | false | -
        lb | external to nodePort                                  | 203.0.113.2   | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80 | true  | -
        lb | nodePort bypasses LoadBalancerSourceRanges            | 203.0.113.130 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80 | true  | -
        lb | accepted external to LB1                              | 203.0.113.2   | TCP | 1.2.3.4     | 80   | 10.180.0.1:80 | true  | -
        lb | accepted external to LB2                              | 203.0.113.2   | TCP | 5.6.7.8     | 80   | 10.180.0.1:80 | true  | -
        lb | blocked external to LB1                               | 203.0.113.130 | TCP | 1.2.3.4     | 80   | DROP          | false | -
        lb | blocked external to LB2                               | 203.0.113.130 | TCP | 5.6.7.8     | 80   | DROP          | false | -
        lb | pod to LB1 (blocked by LoadBalancerSourceRanges)      | 10.0.0.2      | TCP | 1.2.3.4     | 80   | DROP          | false | -
        lb | pod to LB2 (blocked by LoadBalancerSourceRanges)      | 10.0.0.2      | TCP | 5.6.7.8     | 80   | DROP          | false | -
        lb | node to LB1 (allowed by LoadBalancerSourceRanges)     | 192.168.0.2   | TCP | 1.2.3.4     | 80   | 10.180.0.1:80 | true  | -
        lb | node to LB2 (allowed by LoadBalancerSourceRanges)     | 192.168.0.2   | TCP | 5.6.7.8     | 80   | 10.180.0.1:80 | true  | -
        lb | same node to LB1, SNATted to LB1 (implicitly allowed) | 1.2.3.4       | TCP | 1.2.3.4     | 80   | 10.180.0.1:80 | true  | -
        lb | same node to LB2, SNATted to LB2 (implicitly allowed) | 5.6.7.8       | TCP | 5.6.7.8     | 80   | 10.180.0.1:80 | true  | -
        """;

    /** TestNodePorts: 8 flows. */
    private static final String NODE_PORTS = """
        np-default | ipv4/pod to cluster IP                                                 | 10.0.0.2    | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.2.1:80 | false | -
        np-default | ipv4/external to nodePort                                              | 203.0.113.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        np-default | ipv4/node to nodePort                                                  | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        np-default | ipv4/secondary nodeIP ignores NodePorts                                | 203.0.113.2 | TCP | 192.168.1.2 | 3001 | ""                           | false | -
        np-multi   | ipv4, multiple nodeport-addresses/pod to cluster IP                    | 10.0.0.2    | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.2.1:80 | false | -
        np-multi   | ipv4, multiple nodeport-addresses/external to nodePort                 | 203.0.113.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        np-multi   | ipv4, multiple nodeport-addresses/node to nodePort                     | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        np-multi   | ipv4, multiple nodeport-addresses/external to nodePort on secondary IP | 203.0.113.2 | TCP | 192.168.1.2 | 3001 | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        """;

    /** TestExternalTrafficPolicyLocal: 7 flows. */
    private static final String EXTERNAL_TRAFFIC_POLICY_LOCAL = """
        etp-local | pod to cluster IP hits both endpoints, unmasqueraded            | 10.0.0.2    | TCP | 172.30.0.41   | 80   | 10.180.0.1:80, 10.180.2.1:80 | false | -
        etp-local | pod to external IP hits both endpoints, unmasqueraded           | 10.0.0.2    | TCP | 192.168.99.11 | 80   | 10.180.0.1:80, 10.180.2.1:80 | false | -
        etp-local | external to external IP hits only local endpoint, unmasqueraded | 203.0.113.2 | TCP | 192.168.99.11 | 80   | 10.180.2.1:80                | false | -
        etp-local | pod to LB IP hits only both endpoints, unmasqueraded            | 10.0.0.2    | TCP | 1.2.3.4       | 80   | 10.180.0.1:80, 10.180.2.1:80 | false | -
        etp-local | external to LB IP hits only local endpoint, unmasqueraded       | 203.0.113.2 | TCP | 1.2.3.4       | 80   | 10.180.2.1:80                | false | -
        etp-local | pod to NodePort hits both endpoints, unmasqueraded              | 10.0.0.2    | TCP | 192.168.0.2   | 3001 | 10.180.0.1:80, 10.180.2.1:80 | false | -
        etp-local | external to NodePort hits only local endpoint, unmasqueraded    | 203.0.113.2 | TCP | 192.168.0.2   | 3001 | 10.180.2.1:80                | false | -
        """;

    /** TestExternalTrafficPolicyCluster: 7 flows. */
    private static final String EXTERNAL_TRAFFIC_POLICY_CLUSTER = """
        etp-cluster | pod to cluster IP hits both endpoints, unmasqueraded     | 10.0.0.2    | TCP | 172.30.0.41   | 80   | 10.180.0.1:80, 10.180.2.1:80 | false | -
        etp-cluster | pod to external IP hits both endpoints, masqueraded      | 10.0.0.2    | TCP | 192.168.99.11 | 80   | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        etp-cluster | external to external IP hits both endpoints, masqueraded | 203.0.113.2 | TCP | 192.168.99.11 | 80   | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        etp-cluster | pod to LB IP hits both endpoints, masqueraded            | 10.0.0.2    | TCP | 1.2.3.4       | 80   | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        etp-cluster | external to LB IP hits both endpoints, masqueraded       | 203.0.113.2 | TCP | 1.2.3.4       | 80   | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        etp-cluster | pod to NodePort hits both endpoints, masqueraded         | 10.0.0.2    | TCP | 192.168.0.2   | 3001 | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        etp-cluster | external to NodePort hits both endpoints, masqueraded    | 203.0.113.2 | TCP | 192.168.0.2   | 3001 | 10.180.0.1:80, 10.180.2.1:80 | true  | -
        """;

    /** TestInternalTrafficPolicy: 8 flows. */
    private static final String INTERNAL_TRAFFIC_POLICY = """
        itp-cluster         | internalTrafficPolicy is cluster/pod to ClusterIP hits all endpoints                                            | 10.0.0.2 | TCP | 172.30.1.1 | 80 | 10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80 | false | -
        itp-cluster-deleted | internalTrafficPolicy is cluster/endpoints deleted                                                              | 10.0.0.2 | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        itp-local-one       | internalTrafficPolicy is local and there is one local endpoint/pod to ClusterIP hits only local endpoint        | 10.0.0.2 | TCP | 172.30.1.1 | 80 | 10.0.1.1:80                           | false | -
        itp-local-deleted   | internalTrafficPolicy is local and there is one local endpoint/endpoints deleted                                | 10.0.0.2 | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        itp-local-multi     | internalTrafficPolicy is local and there are multiple local endpoints/pod to ClusterIP hits all local endpoints | 10.0.0.2 | TCP | 172.30.1.1 | 80 | 10.0.1.1:80, 10.0.1.2:80              | false | -
        itp-local-deleted   | internalTrafficPolicy is local and there are multiple local endpoints/endpoints deleted                         | 10.0.0.2 | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        itp-local-none      | internalTrafficPolicy is local and there are no local endpoints/no endpoints                                    | 10.0.0.2 | TCP | 172.30.1.1 | 80 | DROP                                  | false | -
        itp-local-deleted   | internalTrafficPolicy is local and there are no local endpoints/endpoints deleted                               | 10.0.0.2 | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        """;

    /** TestTerminatingEndpointsTrafficPolicyLocal: 16 flows. */
    private static final String TERMINATING_ENDPOINTS_TRAFFIC_POLICY_LOCAL = """
        tl-ready       | ready endpoints exist/pod to clusterIP                                           | 10.0.0.2    | TCP | 172.30.1.1 | 80 | 10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80 | false | -
        tl-ready       | ready endpoints exist/external to LB                                             | 203.0.113.2 | TCP | 1.2.3.4    | 80 | 10.0.1.1:80, 10.0.1.2:80              | false | -
        tl-deleted     | ready endpoints exist/pod to clusterIP after endpoints deleted                   | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tl-deleted     | ready endpoints exist/external to LB after endpoints deleted                     | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        tl-terminating | only terminating endpoints exist/pod to clusterIP                                | 10.0.0.2    | TCP | 172.30.1.1 | 80 | 10.0.1.5:80                           | false | -
        tl-terminating | only terminating endpoints exist/external to LB                                  | 203.0.113.2 | TCP | 1.2.3.4    | 80 | 10.0.1.2:80, 10.0.1.3:80              | false | -
        tl-deleted     | only terminating endpoints exist/pod to clusterIP after endpoints deleted        | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tl-deleted     | only terminating endpoints exist/external to LB after endpoints deleted          | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        tl-remote      | terminating endpoints on remote node/pod to clusterIP                            | 10.0.0.2    | TCP | 172.30.1.1 | 80 | 10.0.1.5:80                           | false | -
        tl-remote      | terminating endpoints on remote node/external to LB, no locally-usable endpoints | 203.0.113.2 | TCP | 1.2.3.4    | 80 | DROP                                  | false | -
        tl-deleted     | terminating endpoints on remote node/pod to clusterIP after endpoints deleted    | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tl-deleted     | terminating endpoints on remote node/external to LB after endpoints deleted      | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        tl-unusable    | no usable endpoints on any node/pod to clusterIP, no usable endpoints            | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tl-unusable    | no usable endpoints on any node/external to LB, no usable endpoints              | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        tl-deleted     | no usable endpoints on any node/pod to clusterIP after endpoints deleted         | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tl-deleted     | no usable endpoints on any node/external to LB after endpoints deleted           | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        """;

    /** TestTerminatingEndpointsTrafficPolicyCluster: 16 flows. */
    private static final String TERMINATING_ENDPOINTS_TRAFFIC_POLICY_CLUSTER = """
        tc-ready       | ready endpoints exist/pod to clusterIP                                        | 10.0.0.2    | TCP | 172.30.1.1 | 80 | 10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80 | false | -
        tc-ready       | ready endpoints exist/external to LB                                          | 203.0.113.2 | TCP | 1.2.3.4    | 80 | 10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80 | true  | -
        tc-deleted     | ready endpoints exist/pod to clusterIP after endpoints deleted                | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tc-deleted     | ready endpoints exist/external to LB after endpoints deleted                  | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        tc-terminating | only terminating endpoints exist/pod to clusterIP                             | 10.0.0.2    | TCP | 172.30.1.1 | 80 | 10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80 | false | -
        tc-terminating | only terminating endpoints exist/external to LB                               | 203.0.113.2 | TCP | 1.2.3.4    | 80 | 10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80 | true  | -
        tc-deleted     | only terminating endpoints exist/pod to clusterIP after endpoints deleted     | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tc-deleted     | only terminating endpoints exist/external to LB after endpoints deleted       | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        tc-remote      | terminating endpoints on remote node/pod to clusterIP                         | 10.0.0.2    | TCP | 172.30.1.1 | 80 | 10.0.1.5:80                           | false | -
        tc-remote      | terminating endpoints on remote node/external to LB                           | 203.0.113.2 | TCP | 1.2.3.4    | 80 | 10.0.1.5:80                           | true  | -
        tc-deleted     | terminating endpoints on remote node/pod to clusterIP after endpoints deleted | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tc-deleted     | terminating endpoints on remote node/external to LB after endpoints deleted   | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        tc-unusable    | no usable endpoints on any node/pod to clusterIP                              | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tc-unusable    | no usable endpoints on any node/external to LB                                | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        tc-deleted     | no usable endpoints on any node/pod to clusterIP after endpoints deleted      | 10.0.0.2    | TCP | 172.30.1.1 | 80 | REJECT                                | false | -
        tc-deleted     | no usable endpoints on any node/external to LB after endpoints deleted        | 203.0.113.2 | TCP | 1.2.3.4    | 80 | REJECT                                | false | -
        """;

    /** TestInternalExternalMasquerade: 108 flows. */
    private static final String INTERNAL_EXTERNAL_MASQUERADE = """
        iem-base               | base/pod to ClusterIP                                                       | 10.0.0.2    | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | false | -
        iem-base               | base/pod to NodePort                                                        | 10.0.0.2    | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/pod to LB                                                              | 10.0.0.2    | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/node to ClusterIP                                                      | 192.168.0.2 | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/node to NodePort                                                       | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/node to LB                                                             | 192.168.0.2 | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/external to ClusterIP                                                  | 203.0.113.2 | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/external to NodePort                                                   | 203.0.113.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/external to LB                                                         | 203.0.113.2 | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/pod to ClusterIP with eTP:Local                                        | 10.0.0.2    | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | false | -
        iem-base               | base/pod to NodePort with eTP:Local                                         | 10.0.0.2    | TCP | 192.168.0.2 | 3002 | 10.180.0.2:80, 10.180.1.2:80 | false | -
        iem-base               | base/pod to LB with eTP:Local                                               | 10.0.0.2    | TCP | 5.6.7.8     | 80   | 10.180.0.2:80, 10.180.1.2:80 | false | -
        iem-base               | base/node to ClusterIP with eTP:Local                                       | 192.168.0.2 | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-base               | base/node to NodePort with eTP:Local                                        | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-base               | base/node to LB with eTP:Local                                              | 192.168.0.2 | TCP | 5.6.7.8     | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-base               | base/external to ClusterIP with eTP:Local                                   | 203.0.113.2 | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-base               | base/external to NodePort with eTP:Local                                    | 203.0.113.2 | TCP | 192.168.0.2 | 3002 | 10.180.0.2:80                | false | -
        iem-base               | base/external to LB with eTP:Local                                          | 203.0.113.2 | TCP | 5.6.7.8     | 80   | 10.180.0.2:80                | false | -
        iem-base               | base/pod to ClusterIP with iTP:Local                                        | 10.0.0.2    | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | false | -
        iem-base               | base/pod to NodePort with iTP:Local                                         | 10.0.0.2    | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-base               | base/pod to LB with iTP:Local                                               | 10.0.0.2    | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-base               | base/node to ClusterIP with iTP:Local                                       | 192.168.0.2 | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | -
        iem-base               | base/node to NodePort with iTP:Local                                        | 192.168.0.2 | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-base               | base/node to LB with iTP:Local                                              | 192.168.0.2 | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-base               | base/external to ClusterIP with iTP:Local                                   | 203.0.113.2 | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | -
        iem-base               | base/external to NodePort with iTP:Local                                    | 203.0.113.2 | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-base               | base/external to LB with iTP:Local                                          | 203.0.113.2 | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/pod to ClusterIP                                    | 10.0.0.2    | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | false | -
        iem-nodetector         | no LocalTrafficDetector/pod to NodePort                                     | 10.0.0.2    | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/pod to LB                                           | 10.0.0.2    | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/node to ClusterIP                                   | 192.168.0.2 | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | differs NODE_SOURCE: kube-proxy false, no-op detector; see the class Javadoc
        iem-nodetector         | no LocalTrafficDetector/node to NodePort                                    | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/node to LB                                          | 192.168.0.2 | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/external to ClusterIP                               | 203.0.113.2 | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | false | -
        iem-nodetector         | no LocalTrafficDetector/external to NodePort                                | 203.0.113.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/external to LB                                      | 203.0.113.2 | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/pod to ClusterIP with eTP:Local                     | 10.0.0.2    | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | false | -
        iem-nodetector         | no LocalTrafficDetector/pod to NodePort with eTP:Local                      | 10.0.0.2    | TCP | 192.168.0.2 | 3002 | 10.180.0.2:80                | false | -
        iem-nodetector         | no LocalTrafficDetector/pod to LB with eTP:Local                            | 10.0.0.2    | TCP | 5.6.7.8     | 80   | 10.180.0.2:80                | false | -
        iem-nodetector         | no LocalTrafficDetector/node to ClusterIP with eTP:Local                    | 192.168.0.2 | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | differs NODE_SOURCE: kube-proxy false, no-op detector; see the class Javadoc
        iem-nodetector         | no LocalTrafficDetector/node to NodePort with eTP:Local                     | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/node to LB with eTP:Local                           | 192.168.0.2 | TCP | 5.6.7.8     | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/external to ClusterIP with eTP:Local                | 203.0.113.2 | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | false | -
        iem-nodetector         | no LocalTrafficDetector/external to NodePort with eTP:Local                 | 203.0.113.2 | TCP | 192.168.0.2 | 3002 | 10.180.0.2:80                | false | -
        iem-nodetector         | no LocalTrafficDetector/external to LB with eTP:Local                       | 203.0.113.2 | TCP | 5.6.7.8     | 80   | 10.180.0.2:80                | false | -
        iem-nodetector         | no LocalTrafficDetector/pod to ClusterIP with iTP:Local                     | 10.0.0.2    | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | false | -
        iem-nodetector         | no LocalTrafficDetector/pod to NodePort with iTP:Local                      | 10.0.0.2    | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/pod to LB with iTP:Local                            | 10.0.0.2    | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/node to ClusterIP with iTP:Local                    | 192.168.0.2 | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | differs NODE_SOURCE: kube-proxy false, no-op detector; see the class Javadoc
        iem-nodetector         | no LocalTrafficDetector/node to NodePort with iTP:Local                     | 192.168.0.2 | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/node to LB with iTP:Local                           | 192.168.0.2 | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/external to ClusterIP with iTP:Local                | 203.0.113.2 | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | false | -
        iem-nodetector         | no LocalTrafficDetector/external to NodePort with iTP:Local                 | 203.0.113.2 | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-nodetector         | no LocalTrafficDetector/external to LB with iTP:Local                       | 203.0.113.2 | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall            | masqueradeAll/pod to ClusterIP                                              | 10.0.0.2    | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/pod to NodePort                                               | 10.0.0.2    | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/pod to LB                                                     | 10.0.0.2    | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/node to ClusterIP                                             | 192.168.0.2 | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/node to NodePort                                              | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/node to LB                                                    | 192.168.0.2 | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/external to ClusterIP                                         | 203.0.113.2 | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/external to NodePort                                          | 203.0.113.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/external to LB                                                | 203.0.113.2 | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/pod to ClusterIP with eTP:Local                               | 10.0.0.2    | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-masqall            | masqueradeAll/pod to NodePort with eTP:Local                                | 10.0.0.2    | TCP | 192.168.0.2 | 3002 | 10.180.0.2:80, 10.180.1.2:80 | false | -
        iem-masqall            | masqueradeAll/pod to LB with eTP:Local                                      | 10.0.0.2    | TCP | 5.6.7.8     | 80   | 10.180.0.2:80, 10.180.1.2:80 | false | -
        iem-masqall            | masqueradeAll/node to ClusterIP with eTP:Local                              | 192.168.0.2 | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-masqall            | masqueradeAll/node to NodePort with eTP:Local                               | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall            | masqueradeAll/node to LB with eTP:Local                                     | 192.168.0.2 | TCP | 5.6.7.8     | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-masqall            | masqueradeAll/external to ClusterIP with eTP:Local                          | 203.0.113.2 | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-masqall            | masqueradeAll/external to NodePort with eTP:Local                           | 203.0.113.2 | TCP | 192.168.0.2 | 3002 | 10.180.0.2:80                | false | -
        iem-masqall            | masqueradeAll/external to LB with eTP:Local                                 | 203.0.113.2 | TCP | 5.6.7.8     | 80   | 10.180.0.2:80                | false | -
        iem-masqall            | masqueradeAll/pod to ClusterIP with iTP:Local                               | 10.0.0.2    | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | -
        iem-masqall            | masqueradeAll/pod to NodePort with iTP:Local                                | 10.0.0.2    | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall            | masqueradeAll/pod to LB with iTP:Local                                      | 10.0.0.2    | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall            | masqueradeAll/node to ClusterIP with iTP:Local                              | 192.168.0.2 | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | -
        iem-masqall            | masqueradeAll/node to NodePort with iTP:Local                               | 192.168.0.2 | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall            | masqueradeAll/node to LB with iTP:Local                                     | 192.168.0.2 | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall            | masqueradeAll/external to ClusterIP with iTP:Local                          | 203.0.113.2 | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | -
        iem-masqall            | masqueradeAll/external to NodePort with iTP:Local                           | 203.0.113.2 | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall            | masqueradeAll/external to LB with iTP:Local                                 | 203.0.113.2 | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to ClusterIP                     | 10.0.0.2    | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to NodePort                      | 10.0.0.2    | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to LB                            | 10.0.0.2    | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to ClusterIP                    | 192.168.0.2 | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to NodePort                     | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to LB                           | 192.168.0.2 | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to ClusterIP                | 203.0.113.2 | TCP | 172.30.0.41 | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to NodePort                 | 203.0.113.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to LB                       | 203.0.113.2 | TCP | 1.2.3.4     | 80   | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to ClusterIP with eTP:Local      | 10.0.0.2    | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to NodePort with eTP:Local       | 10.0.0.2    | TCP | 192.168.0.2 | 3002 | 10.180.0.2:80                | false | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to LB with eTP:Local             | 10.0.0.2    | TCP | 5.6.7.8     | 80   | 10.180.0.2:80                | false | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to ClusterIP with eTP:Local     | 192.168.0.2 | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to NodePort with eTP:Local      | 192.168.0.2 | TCP | 192.168.0.2 | 3001 | 10.180.0.1:80, 10.180.1.1:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to LB with eTP:Local            | 192.168.0.2 | TCP | 5.6.7.8     | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to ClusterIP with eTP:Local | 203.0.113.2 | TCP | 172.30.0.42 | 80   | 10.180.0.2:80, 10.180.1.2:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to NodePort with eTP:Local  | 203.0.113.2 | TCP | 192.168.0.2 | 3002 | 10.180.0.2:80                | false | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to LB with eTP:Local        | 203.0.113.2 | TCP | 5.6.7.8     | 80   | 10.180.0.2:80                | false | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to ClusterIP with iTP:Local      | 10.0.0.2    | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to NodePort with iTP:Local       | 10.0.0.2    | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/pod to LB with iTP:Local             | 10.0.0.2    | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to ClusterIP with iTP:Local     | 192.168.0.2 | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to NodePort with iTP:Local      | 192.168.0.2 | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/node to LB with iTP:Local            | 192.168.0.2 | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to ClusterIP with iTP:Local | 203.0.113.2 | TCP | 172.30.0.43 | 80   | 10.180.0.3:80                | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to NodePort with iTP:Local  | 203.0.113.2 | TCP | 192.168.0.2 | 3003 | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        iem-masqall-nodetector | masqueradeAll, no LocalTrafficDetector/external to LB with iTP:Local        | 203.0.113.2 | TCP | 9.10.11.12  | 80   | 10.180.0.3:80, 10.180.1.3:80 | true  | -
        """;

    /** Every table, by Go function. */
    private static final Map<String, String> TABLES = tables();

    private static Map<String, String> tables() {
        final Map<String, String> m = new LinkedHashMap<>();
        m.put("TestNoEndpointsReject", NO_ENDPOINTS_REJECT);
        m.put("TestClusterIPGeneral", CLUSTER_IP_GENERAL);
        m.put("TestLoadBalancer", LOAD_BALANCER);
        m.put("TestNodePorts", NODE_PORTS);
        m.put("TestExternalTrafficPolicyLocal", EXTERNAL_TRAFFIC_POLICY_LOCAL);
        m.put("TestExternalTrafficPolicyCluster", EXTERNAL_TRAFFIC_POLICY_CLUSTER);
        m.put("TestInternalTrafficPolicy", INTERNAL_TRAFFIC_POLICY);
        m.put("TestTerminatingEndpointsTrafficPolicyLocal", TERMINATING_ENDPOINTS_TRAFFIC_POLICY_LOCAL);
        m.put("TestTerminatingEndpointsTrafficPolicyCluster", TERMINATING_ENDPOINTS_TRAFFIC_POLICY_CLUSTER);
        m.put("TestInternalExternalMasquerade", INTERNAL_EXTERNAL_MASQUERADE);
        return m;
    }

    static Stream<Arguments> flows() {
        final List<Arguments> rows = new ArrayList<>();
        TABLES.forEach((function, table) -> {
            for (final String line : table.strip().split("\n")) {
                final String[] c = Arrays.stream(line.split("\\|")).map(String::trim).toArray(String[]::new);
                assertEquals(9, c.length, "malformed row: " + line);
                final Object[] row = new Object[10];
                row[0] = function;
                System.arraycopy(c, 0, row, 1, 9);
                rows.add(Arguments.of(row));
            }
        });
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}: {2} ({4} {3} -> {5}:{6})")
    @MethodSource("flows")
    void shouldDecideAsKubeProxysOwnTestExpects(
        final String function, final String setup, final String flow, final String src, final String proto, final String dst,
        final String port, final String output, final String masq, final String note) {
        final ServiceTable table = SETUPS.get(setup);
        assertTrue(table != null, "unknown setup " + setup);
        final String what = function + "/" + flow;
        final Verdict verdict;
        final List<String> expectedCandidates;
        switch (output) {
            case "REJECT" -> {
                verdict = Verdict.REJECT;
                expectedCandidates = List.of();
            }
            case "DROP" -> {
                verdict = Verdict.DROP;
                expectedCandidates = List.of();
            }
            case "\"\"" -> {
                verdict = Verdict.PASS;
                expectedCandidates = List.of();
            }
            default -> {
                verdict = Verdict.DNAT;
                expectedCandidates = Arrays.stream(output.split(",")).map(String::trim).sorted().toList();
            }
        }
        final boolean expectMasquerade = Boolean.parseBoolean(masq);
        assertTrue(masq.equals("true") || masq.equals("false"), what + ": masq column " + masq);
        final MasqueradeReason differsReason = note.startsWith("differs ")
            ? MasqueradeReason.valueOf(note.substring("differs ".length(), note.indexOf(':'))) : null;
        assertTrue(note.equals("-") || differsReason != null, what + ": note column " + note);

        final ServiceRouter router = new ServiceRouter(new RandomSelector(new SplittableRandom(7)), LOCAL);
        final RouteDecision out = new RouteDecision();
        final TreeSet<String> chosen = new TreeSet<>();
        for (int i = 0; i < 64; i++) {
            router.route(table, Protocol.parse(proto).number(), ip(src), 40000 + i, ip(dst), Integer.parseInt(port), 1_000L, out);
            assertEquals(verdict, out.verdict(), what + ": " + out);
            assertEquals(expectMasquerade, out.masqueradeReason() != MasqueradeReason.NONE, what + ": masquerade " + out);
            assertEquals(expectMasquerade, out.masquerade(), what + ": masquerade flag " + out);
            if (differsReason != null) {
                assertEquals(differsReason, out.masqueradeReason(), what + ": the documented difference's reason");
            }
            if (verdict == Verdict.DNAT) {
                assertEquals(RouteReason.ENDPOINT_SELECTED, out.reason(), what + ": " + out);
                final List<String> candidates = new ArrayList<>();
                for (int c = 0; c < out.candidateCount(); c++) {
                    candidates.add(Ipv4.format(out.candidateAddress(c), out.candidatePort(c)));
                }
                assertEquals(expectedCandidates, candidates.stream().sorted().toList(), what + ": candidates");
                chosen.add(Ipv4.format(out.backendAddress(), out.backendPort()));
            } else {
                assertEquals(-1, out.backendIndex(), what + ": " + out);
            }
        }
        if (verdict == Verdict.DNAT) {
            assertEquals(new TreeSet<>(expectedCandidates), chosen, what + ": every candidate, and only those, is picked");
        }
    }

    @Test
    void shouldPortEveryIpv4Flow() {
        final Map<String, Integer> counted = new LinkedHashMap<>();
        final Map<String, Integer> differs = new TreeMap<>();
        flows().forEach(a -> {
            final Object[] row = a.get();
            counted.merge((String) row[0], 1, Integer::sum);
            if (!"-".equals(row[9])) {
                differs.merge((String) row[0], 1, Integer::sum);
            }
            assertTrue(SETUPS.containsKey((String) row[1]), "unknown setup " + row[1]);
        });
        assertEquals(EXPECTED_FLOWS, counted);
        assertEquals(199, counted.values().stream().mapToInt(Integer::intValue).sum());
        assertEquals(Map.of("TestInternalExternalMasquerade", 3), differs, "the documented differences");
    }
}
