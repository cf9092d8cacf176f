package dev.ferry.control.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.control.admin.AdminFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConntrackCommandTest {
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
    void shouldListEntriesInConntrackStyle() {
        final CliRun run = CliRun.run("conntrack", "--agent", agent.metricsUrl());
        assertEquals(0, run.exitCode(), run.err());
        final List<String> lines = Arrays.asList(run.out().split("\n"));
        assertEquals(4, lines.size(), run.out());
        assertTrue(lines.contains("tcp      6 120 SYN_SENT src=198.18.1.50 dst=198.18.0.11 sport=50000 dport=30080 "
            + "src=10.244.2.7 dst=198.18.0.11 sport=8080 dport=61000 [MASQUERADED] service=default/web:http"), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("udp      17 \\d+ src=10\\.244\\.1\\.9 dst=10\\.96\\.0\\.10 sport=5353 "
            + "dport=53 src=10\\.244\\.1\\.20 dst=10\\.244\\.1\\.9 sport=53 dport=5353 \\[UNREPLIED\\] service=kube-system/dns:dns")),
            run.out());
        assertEquals("ferry conntrack: 4 flow entries have been shown.\n", run.err());
    }

    @Test
    void shouldFilterByProtocolDestinationAndPort() throws Exception {
        final CliRun run = CliRun.run("conntrack", "-L", "-p", "tcp", "--dst", "10.96.0.50", "--dport", "80", "--json",
            "--agent", agent.metricsUrl());
        assertEquals(0, run.exitCode(), run.err());
        final String[] lines = run.out().split("\n");
        assertEquals(2, lines.length, run.out());
        for (final String line : lines) {
            assertEquals("default/web:http", new ObjectMapper().readTree(line).get("service").asText());
        }
    }

    @Test
    void shouldDeleteOnlyTheServicesEntries() {
        final CliRun run = CliRun.run("conntrack", "-D", "--service", "default/web", "--control-socket", agent.controlSocket().toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("ferry conntrack: 3 flow entries have been deleted.\n", run.err());
        assertEquals(1, agent.conntrack.size(), "only the dns flow is left");

        final CliRun left = CliRun.run("conntrack", "--json", "--agent", agent.metricsUrl());
        assertTrue(left.out().contains("\"service\":\"kube-system/dns:dns\""), left.out());
    }

    @Test
    void shouldSayWhereTheControlSocketIsWhenThereIsNone() {
        final CliRun run = CliRun.run("conntrack", "-D", "--control-socket", "/nonexistent/control.sock");
        assertEquals(1, run.exitCode(), run.err());
        assertTrue(run.err().contains("no control socket at /nonexistent/control.sock: is the agent running"), run.err());
        assertEquals(4, agent.conntrack.size());
    }

    @Test
    void shouldRefuseListAndDeleteTogetherAndBadFiltersAsUsageErrors() {
        final CliRun both = CliRun.run("conntrack", "-L", "-D", "--agent", agent.metricsUrl());
        assertEquals(2, both.exitCode());
        final CliRun badProto = CliRun.run("conntrack", "-p", "gre", "--agent", agent.metricsUrl());
        assertEquals(2, badProto.exitCode());
        assertTrue(badProto.err().contains("'gre' is not a protocol"), badProto.err());
        assertEquals(4, agent.conntrack.size());
    }
}
