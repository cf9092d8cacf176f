package dev.ferry.control.source;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.PortType;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.util.List;

/** Manifests and a node config shared by the source tests. */
final class Manifests {
    static final NodeConfig NODE = new NodeConfig(new NodeSpec("node-a", List.of(Ipv4.parse("198.18.0.11")),
        List.of(Ipv4Cidr.parse("10.244.0.0/16")), Ipv4Cidr.parse("10.244.1.0/24"), List.of(Ipv4Cidr.parse("10.96.0.0/12")),
        30000, 32767, List.of(), false), PortType.TUN);

    static final String WEB_SERVICE = """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          type: NodePort
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        """;

    static final String DB_SERVICE = """
        apiVersion: v1
        kind: Service
        metadata: {name: db}
        spec:
          ports: [{port: 5432}]
        """;

    private Manifests() {
    }

    static String pod(final String name, final String ip, final boolean ready) {
        return """
            apiVersion: v1
            kind: Pod
            metadata: {name: %s, labels: {app: web}}
            spec:
              nodeName: node-a
              containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]
            status:
              podIP: %s
              conditions: [{type: Ready, status: "%s"}]
            """.formatted(name, ip, ready ? "True" : "False");
    }

    static String docs(final String... documents) {
        return String.join("---\n", documents);
    }

    static ServicePortSpec port(final SourceSnapshot snapshot, final String displayName) {
        return snapshot.servicePorts().stream().filter(p -> p.displayName().equals(displayName)).findFirst()
            .orElseThrow(() -> new AssertionError("no " + displayName + " in " + snapshot.servicePorts()
                + "; errors " + snapshot.errors()));
    }

    static boolean hasPort(final SourceSnapshot snapshot, final String displayName) {
        return snapshot.servicePorts().stream().anyMatch(p -> p.displayName().equals(displayName));
    }

    static List<String> readyAddresses(final SourceSnapshot snapshot, final String displayName) {
        return port(snapshot, displayName).endpoints().stream().filter(EndpointSpec::ready).map(e -> Ipv4.format(e.address()))
            .toList();
    }
}
