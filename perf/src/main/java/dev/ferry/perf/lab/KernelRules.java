package dev.ferry.perf.lab;

import dev.ferry.perf.lab.BenchServices.Endpoint;
import dev.ferry.perf.lab.BenchServices.ServicePort;

import java.util.List;
import java.util.Locale;

/**
 * The kernel baselines' rule sets for a list of service ports, shaped like what kube-proxy
 * writes for ClusterIP services (pkg/proxy/nftables and pkg/proxy/iptables), so that the
 * kernel does the same job the same way as on a real node:
 * <ul>
 *   <li>nftables mode: table {@code ip kube-proxy}; a verdict map {@code service-ips} keyed by
 *       (address, protocol, port) jumps to one chain per service port, which marks off-cluster
 *       sources for masquerade and picks an endpoint chain with {@code numgen random mod N};
 *       each endpoint chain DNATs. Filter chains reject or drop new connections to cluster IPs
 *       that no rule translated. One map lookup per new connection, whatever the number of
 *       services.</li>
 *   <li>iptables mode: {@code KUBE-SERVICES} holds one rule per service port, matched in
 *       order, jumping to {@code KUBE-SVC-*} chains that pick a {@code KUBE-SEP-*} chain with
 *       {@code statistic --mode random} probabilities 1/N, 1/(N-1), ...; a new connection walks
 *       the list until its service's rule. Masquerade through the 0x4000 mark as kube-proxy does.</li>
 * </ul>
 * The bench service's LoadBalancer ports (the external {@link BenchPath}s) get nftables mode's
 * external chain (externalTrafficPolicy Cluster: mark for masquerade, then the service chain),
 * reached from {@code service-nodeports} on the node's address and from {@code service-ips} on
 * the LB IP. Left out: external IPs, firewall (loadBalancerSourceRanges) and health-check
 * chains, which no benchmarked packet reaches, and NodePorts in iptables mode.
 */
public final class KernelRules {
    static final String MASQ_MARK = "0x4000";

    private KernelRules() {
    }

    static String serviceChain(final ServicePort p) {
        return "service-" + BenchServices.hash(p.id()) + "-" + p.id();
    }

    static String externalChain(final ServicePort p) {
        return "external-" + BenchServices.hash(p.id()) + "-" + p.id();
    }

    static String endpointChain(final ServicePort p, final Endpoint e) {
        final String id = p.id() + "__" + e.ip() + "/" + e.port();
        return "endpoint-" + BenchServices.hash(id) + "-" + id;
    }

    /**
     * The whole {@code ip kube-proxy} table for {@code ports} (deleted first when it exists, so a
     * load replaces it); {@code nodeIp} is the address NodePorts answer on.
     */
    public static String nftables(final List<ServicePort> ports, final String nodeIp) {
        final List<ServicePort> external = ports.stream().filter(ServicePort::external).toList();
        final StringBuilder n = new StringBuilder(ports.size() * 1500);
        n.append("# kube-proxy nftables mode, as ferry bench generates it for ").append(ports.size()).append(" service ports\n");
        n.append("table ip kube-proxy\ndelete table ip kube-proxy\n");
        n.append("table ip kube-proxy {\n\tcomment \"rules for kube-proxy\"\n");
        n.append("\tset cluster-ips {\n\t\ttype ipv4_addr\n\t\tcomment \"Active ClusterIPs\"\n");
        n.append(elements(ports.stream().map(ServicePort::clusterIp).distinct().toList()));
        n.append("\t}\n");
        n.append("\tset nodeport-ips {\n\t\ttype ipv4_addr\n\t\tcomment \"IPs that accept NodePort traffic\"\n");
        n.append(elements(external.isEmpty() ? List.of() : List.of(nodeIp)));
        n.append("\t}\n");
        n.append("\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n")
            .append("\t\tcomment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\"\n");
        final List<String> serviceIps = new java.util.ArrayList<>(
            ports.stream().map(p -> p.clusterIp() + " . " + p.l4() + " . " + p.port() + " : goto " + serviceChain(p)).toList());
        external.forEach(p -> serviceIps.add(p.loadBalancerIp() + " . " + p.l4() + " . " + p.port() + " : goto " + externalChain(p)));
        n.append(elements(serviceIps));
        n.append("\t}\n");
        n.append("\tmap service-nodeports {\n\t\ttype inet_proto . inet_service : verdict\n\t\tcomment \"NodePort traffic\"\n");
        n.append(elements(external.stream().map(p -> p.l4() + " . " + p.nodePort() + " : goto " + externalChain(p)).toList()));
        n.append("\t}\n");
        n.append("\tmap no-endpoint-services {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n")
            .append("\t\tcomment \"vmap to drop or reject packets to services with no endpoints\"\n\t}\n");
        n.append("""
            \tchain filter-prerouting {
            \t\ttype filter hook prerouting priority dstnat - 10; policy accept;
            \t}
            \tchain filter-input {
            \t\ttype filter hook input priority -110; policy accept;
            \t\tct state new jump service-endpoints-check
            \t}
            \tchain filter-forward {
            \t\ttype filter hook forward priority -110; policy accept;
            \t\tct state new jump service-endpoints-check
            \t\tct state new jump cluster-ips-check
            \t}
            \tchain filter-output {
            \t\ttype filter hook output priority -110; policy accept;
            \t\tct state new jump service-endpoints-check
            \t}
            \tchain filter-output-post-dnat {
            \t\ttype filter hook output priority -90; policy accept;
            \t\tct state new jump cluster-ips-check
            \t}
            \tchain nat-prerouting {
            \t\ttype nat hook prerouting priority dstnat; policy accept;
            \t\tjump services
            \t}
            \tchain nat-output {
            \t\ttype nat hook output priority -100; policy accept;
            \t\tjump services
            \t}
            \tchain nat-postrouting {
            \t\ttype nat hook postrouting priority srcnat; policy accept;
            \t\tjump masquerading
            \t}
            \tchain service-endpoints-check {
            \t\tip daddr . meta l4proto . th dport vmap @no-endpoint-services
            \t}
            \tchain cluster-ips-check {
            \t\tip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
            \t\tip daddr { %s } drop comment "Drop traffic to unallocated ClusterIPs"
            \t}
            \tchain mark-for-masquerade {
            \t\tmeta mark set meta mark | %s
            \t}
            \tchain masquerading {
            \t\tmeta mark & %s == 0 return
            \t\tmeta mark set meta mark ^ %s
            \t\tmasquerade fully-random
            \t}
            \tchain services {
            \t\tip daddr . meta l4proto . th dport vmap @service-ips
            \t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
            \t}
            """.formatted(BenchServices.SERVICE_CIDR, MASQ_MARK, MASQ_MARK, MASQ_MARK).replace("\n    ", "\n"));
        for (final ServicePort p : ports) {
            serviceChains(n, p);
        }
        n.append("}\n");
        return n.toString();
    }

    private static void serviceChains(final StringBuilder n, final ServicePort p) {
        if (p.external()) {
            // externalTrafficPolicy Cluster: whatever comes in from outside may leave to another node, so it is masqueraded
            n.append("\tchain ").append(externalChain(p)).append(" {\n\t\tjump mark-for-masquerade\n\t\tgoto ")
                .append(serviceChain(p)).append("\n\t}\n");
        }
        n.append("\tchain ").append(serviceChain(p)).append(" {\n");
        n.append("\t\tip daddr ").append(p.clusterIp()).append(' ').append(p.l4()).append(" dport ").append(p.port())
            .append(" ip saddr != ").append(BenchServices.CLUSTER_CIDR).append(" jump mark-for-masquerade\n");
        n.append("\t\tnumgen random mod ").append(p.endpoints().size()).append(" vmap { ");
        for (int i = 0; i < p.endpoints().size(); i++) {
            n.append(i == 0 ? "" : ", ").append(i).append(" : goto ").append(endpointChain(p, p.endpoints().get(i)));
        }
        n.append(" }\n\t}\n");
        for (final Endpoint e : p.endpoints()) {
            n.append("\tchain ").append(endpointChain(p, e)).append(" {\n");
            n.append("\t\tip saddr ").append(e.ip()).append(" jump mark-for-masquerade\n");
            n.append("\t\tmeta l4proto ").append(p.l4()).append(" dnat to ").append(e.ip()).append(':').append(e.port()).append("\n\t}\n");
        }
    }

    /** A transaction adding one service port to a loaded {@code ip kube-proxy} table, as kube-proxy's incremental sync writes it. */
    public static String nftablesAdd(final ServicePort p) {
        final StringBuilder body = new StringBuilder();
        serviceChains(body, p);
        final StringBuilder n = new StringBuilder();
        // declare the chains first (add chain), then fill them inside the table block
        for (final Endpoint e : p.endpoints()) {
            n.append("add chain ip kube-proxy ").append(endpointChain(p, e)).append('\n');
        }
        n.append("add chain ip kube-proxy ").append(serviceChain(p)).append('\n');
        n.append("table ip kube-proxy {\n").append(body).append("}\n");
        n.append("add element ip kube-proxy cluster-ips { ").append(p.clusterIp()).append(" }\n");
        n.append("add element ip kube-proxy service-ips { ").append(p.clusterIp()).append(" . ").append(p.l4()).append(" . ")
            .append(p.port()).append(" : goto ").append(serviceChain(p)).append(" }\n");
        return n.toString();
    }

    private static String elements(final List<String> items) {
        if (items.isEmpty()) {
            return "";
        }
        final StringBuilder e = new StringBuilder("\t\telements = {\n");
        for (int i = 0; i < items.size(); i++) {
            e.append("\t\t\t").append(items.get(i)).append(i + 1 < items.size() ? ",\n" : "\n");
        }
        return e.append("\t\t}\n").toString();
    }

    // ---- iptables mode ----

    static String svcChain(final ServicePort p) {
        return "KUBE-SVC-" + BenchServices.hash(p.id() + "iptables").substring(0, 8) + BenchServices.hash(p.id()).substring(0, 8);
    }

    static String sepChain(final ServicePort p, final Endpoint e) {
        final String id = p.id() + "__" + e.ip() + "/" + e.port();
        return "KUBE-SEP-" + BenchServices.hash(id + "iptables").substring(0, 8) + BenchServices.hash(id).substring(0, 8);
    }

    /** iptables-restore input for the nat and filter tables (replacing both). */
    public static String iptables(final List<ServicePort> ports) {
        if (ports.stream().anyMatch(ServicePort::external)) {
            throw new IllegalArgumentException("the iptables baseline has no NodePort or LoadBalancer rules: use nftables for the external paths");
        }
        final StringBuilder r = new StringBuilder(ports.size() * 2500);
        r.append("# kube-proxy iptables mode, as ferry bench generates it for ").append(ports.size()).append(" service ports\n");
        r.append("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n");
        r.append(":KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-NODEPORTS - [0:0]\n");
        for (final ServicePort p : ports) {
            chainDeclarations(r, p);
        }
        r.append("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        r.append("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        r.append("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n");
        r.append("-A KUBE-POSTROUTING -m mark ! --mark ").append(MASQ_MARK).append('/').append(MASQ_MARK).append(" -j RETURN\n");
        r.append("-A KUBE-POSTROUTING -j MARK --xor-mark ").append(MASQ_MARK).append('\n');
        r.append("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n");
        r.append("-A KUBE-MARK-MASQ -j MARK --or-mark ").append(MASQ_MARK).append('\n');
        servicesChain(r, ports);
        for (final ServicePort p : ports) {
            serviceRules(r, p);
        }
        r.append("COMMIT\n");
        r.append("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
        r.append(":KUBE-FORWARD - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n:KUBE-PROXY-FIREWALL - [0:0]\n:KUBE-NODEPORTS - [0:0]\n");
        r.append("-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n");
        r.append("-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS\n");
        r.append("-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n");
        r.append("-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n");
        r.append("-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n");
        r.append("-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        r.append("-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n");
        r.append("-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n");
        r.append("-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        r.append("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n");
        r.append("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark ").append(MASQ_MARK).append('/')
            .append(MASQ_MARK).append(" -j ACCEPT\n");
        r.append("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        r.append("COMMIT\n");
        return r.toString();
    }

    /**
     * iptables-restore --noflush input adding {@code added} to a table holding {@code existing}:
     * kube-proxy's minimal restore rewrites KUBE-SERVICES whole and writes only the new chains.
     */
    public static String iptablesAdd(final List<ServicePort> existing, final ServicePort added) {
        final StringBuilder r = new StringBuilder(existing.size() * 200);
        r.append("*nat\n:KUBE-SERVICES - [0:0]\n");
        chainDeclarations(r, added);
        final List<ServicePort> all = new java.util.ArrayList<>(existing);
        all.add(added);
        servicesChain(r, all);
        serviceRules(r, added);
        r.append("COMMIT\n");
        return r.toString();
    }

    private static void chainDeclarations(final StringBuilder r, final ServicePort p) {
        r.append(':').append(svcChain(p)).append(" - [0:0]\n");
        for (final Endpoint e : p.endpoints()) {
            r.append(':').append(sepChain(p, e)).append(" - [0:0]\n");
        }
    }

    private static void servicesChain(final StringBuilder r, final List<ServicePort> ports) {
        for (final ServicePort p : ports) {
            r.append("-A KUBE-SERVICES -m comment --comment \"").append(comment(p)).append(" cluster IP\" -d ").append(p.clusterIp())
                .append("/32 -p ").append(p.l4()).append(" -m ").append(p.l4()).append(" --dport ").append(p.port())
                .append(" -j ").append(svcChain(p)).append('\n');
        }
        r.append("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" ")
            .append("-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n");
    }

    private static void serviceRules(final StringBuilder r, final ServicePort p) {
        final String svc = svcChain(p);
        r.append("-A ").append(svc).append(" -m comment --comment \"").append(comment(p)).append(" cluster IP\" -d ").append(p.clusterIp())
            .append("/32 -p ").append(p.l4()).append(" -m ").append(p.l4()).append(" --dport ").append(p.port())
            .append(" ! -s ").append(BenchServices.CLUSTER_CIDR).append(" -j KUBE-MARK-MASQ\n");
        final int n = p.endpoints().size();
        for (int i = 0; i < n; i++) {
            final Endpoint e = p.endpoints().get(i);
            r.append("-A ").append(svc).append(" -m comment --comment \"").append(comment(p)).append(" -> ").append(e.ip()).append(':')
                .append(e.port()).append('"');
            if (i < n - 1) {
                r.append(" -m statistic --mode random --probability ").append(String.format(Locale.ROOT, "%.11f", 1.0 / (n - i)));
            }
            r.append(" -j ").append(sepChain(p, e)).append('\n');
        }
        for (final Endpoint e : p.endpoints()) {
            final String sep = sepChain(p, e);
            r.append("-A ").append(sep).append(" -m comment --comment ").append(comment(p)).append(" -s ").append(e.ip())
                .append("/32 -j KUBE-MARK-MASQ\n");
            r.append("-A ").append(sep).append(" -m comment --comment ").append(comment(p)).append(" -m ").append(p.l4()).append(" -p ")
                .append(p.l4()).append(" -j DNAT --to-destination ").append(e.ip()).append(':').append(e.port()).append('\n');
        }
    }

    private static String comment(final ServicePort p) {
        return BenchServices.NAMESPACE + "/" + p.service() + ":" + p.portName();
    }
}
