package dev.ferry.perf.bench;

import dev.ferry.perf.lab.BenchPath;
import dev.ferry.perf.lab.BenchServices;
import dev.ferry.perf.lab.KernelRules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ferry bench rules}: prints the kernel baseline's rule set for N services (the bench
 * service and N-1 fillers), as {@code ferry bench lab} loads it; perf/baselines holds the
 * one-service files made with it.
 */
@Command(name = "rules", mixinStandardHelpOptions = true,
    description = {"Print the kube-proxy-shaped kernel rule set of the lab benchmarks (nft -f / iptables-restore input)."})
final class RulesRun implements Callable<Integer> {
    @Option(names = "--format", required = true, description = "nftables or iptables.")
    String format;
    @Option(names = "--services", defaultValue = "1", description = "Services: the bench service plus N-1 fillers (default: ${DEFAULT-VALUE}).")
    int services;
    @Option(names = "--server", paramLabel = "IP", description = "Load server (endpoint) addresses (default: the lab's web-1 and web-2).")
    List<String> servers = List.of("10.244.1.11", "10.244.1.12");
    @Option(names = "--path", defaultValue = "cluster-ip", description = "The bench service's shape: cluster-ip, node-port, "
        + "load-balancer or hairpin (default: ${DEFAULT-VALUE}; see bench lab --path).")
    String path;
    @Option(names = "--node-ip", defaultValue = "198.18.0.11", description = "The address NodePorts answer on (default: ${DEFAULT-VALUE}, the lab's node-1).")
    String nodeIp;

    @Override
    public Integer call() {
        final List<BenchServices.ServicePort> ports = BenchServices.all(services, servers, BenchPath.parse(path));
        System.out.print(switch (format) {
            case "nftables", "nft" -> KernelRules.nftables(ports, nodeIp);
            case "iptables" -> KernelRules.iptables(ports);
            default -> throw new IllegalArgumentException("--format is nftables or iptables, not '" + format + "'");
        });
        return 0;
    }
}
