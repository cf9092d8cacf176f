package dev.ferry.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.control.admin.AdminFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServicesCommandTest {
    private AdminFixture agent;

    @BeforeEach
    void start() {
        agent = new AdminFixture();
    }

    @AfterEach
    void stop() {
        agent.close();
    }

    @Test
    void shouldPrintOneRowPerServicePortLikeKubectl() {
        final CliRun run = CliRun.run("services", "--agent", agent.metricsUrl());
        assertEquals(0, run.exitCode(), run.err());
        final String[] lines = run.out().split("\n");
        assertEquals(5, lines.length, run.out());
        assertTrue(lines[0].matches("NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\\(S\\) +ENDPOINTS"), lines[0]);
        assertTrue(lines[1].matches("default/web:http +NodePort +10\\.96\\.0\\.50 +<none> +80:30080/TCP +"
            + "10\\.244\\.1\\.5:8080,10\\.244\\.2\\.7:8080"), lines[1]);
        assertTrue(lines[2].matches("kube-system/dns:dns +ClusterIP +10\\.96\\.0\\.10 +<none> +53/UDP +10\\.244\\.1\\.20:53"),
            lines[2]);
        assertTrue(lines[3].matches("shop/front:443 +LoadBalancer +10\\.96\\.0\\.60 +198\\.18\\.100\\.5,198\\.18\\.0\\.200 +"
            + "443:31443/TCP +10\\.244\\.1\\.30:8443,10\\.244\\.2\\.31:8443 \\(local: 1\\)"), lines[3]);
        assertTrue(lines[4].matches("default/lonely:443 +ClusterIP +10\\.96\\.0\\.99 +<none> +443/TCP +<none>"), lines[4]);
        final int column = lines[0].indexOf("CLUSTER-IP");
        for (int i = 1; i < lines.length; i++) {
            assertEquals(' ', lines[i].charAt(column - 1), "columns line up: " + run.out());
        }
    }

    @Test
    void shouldShowOneServiceAsJson() throws Exception {
        final CliRun run = CliRun.run("services", "default/web", "--json", "--agent", agent.metricsUrl());
        assertEquals(0, run.exitCode(), run.err());
        final JsonNode ports = new ObjectMapper().readTree(run.out());
        assertEquals(1, ports.size());
        assertEquals("default/web:http", ports.get(0).get("name").asText());
        assertEquals(3, ports.get(0).get("endpoints").size());
    }

    @Test
    void shouldExitOneSayingWhatToCheckWhenNoAgentListens() throws Exception {
        final int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        final CliRun run = CliRun.run("services", "--agent", "http://127.0.0.1:" + port);
        assertEquals(1, run.exitCode());
        assertTrue(run.err().startsWith("ferry services: cannot reach the ferry agent at http://127.0.0.1:" + port
            + " (connection refused): is the agent running"), run.err());
    }

    @Test
    void shouldExitTwoForAnAgentUrlThatIsNotHttp() {
        final CliRun run = CliRun.run("services", "--agent", "ftp://127.0.0.1:1");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("--agent: 'ftp://127.0.0.1:1' is not an http://host:port URL"), run.err());
    }
}
