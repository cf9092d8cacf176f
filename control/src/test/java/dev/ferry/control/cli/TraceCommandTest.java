package dev.ferry.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
        List<JsonNode> jsonLines() throws Exception {
            final List<JsonNode> lines = new ArrayList<>();
            for (final String line : out.split("\n")) {
                lines.add(JSON.readTree(line));
            }
            return lines;
        }
    }

    static String resource(final String name) {
        try {
            return Path.of(TraceCommandTest.class.getResource("/trace/" + name).toURI()).toString();
        } catch (final URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Run run(final String... args) {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cli = FerryCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        final int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static String[] trace(final String... flowArgs) {
        final List<String> args = new ArrayList<>(List.of("trace", "--node-config", resource("node.yaml"),
            "--manifests", resource("manifests")));
        args.addAll(List.of(flowArgs));
        return args.toArray(String[]::new);
    }

    @Test
    void shouldListCommandsInHelp() {
        final Run run = run("--help");
        assertEquals(0, run.exitCode());
        assertTrue(run.out().contains("trace"), run.out());
    }

    @Test
    void shouldDnatClusterIpFlowToOneOfItsEndpointsAsJson() throws Exception {
        final Run run = run(trace("--proto", "TCP", "--src", "10.244.1.9", "--sport", "40000", "--dst", "172.30.0.41",
            "--dport", "80", "--json"));
        assertEquals(0, run.exitCode(), run.err());
        final List<JsonNode> lines = run.jsonLines();
        assertEquals(1, lines.size(), run.out());
        final JsonNode result = lines.get(0);
        assertEquals(List.of("verdict", "service", "candidates", "selected", "masquerade", "reason"),
            iterable(result.fieldNames()));
        assertEquals("DNAT", result.get("verdict").asText(), run.out());
        assertEquals("default/web:http", result.get("service").asText());
        assertEquals(List.of("10.244.1.5:8080", "10.244.2.7:8080"), texts(result.get("candidates")));
        assertTrue(texts(result.get("candidates")).contains(result.get("selected").asText()));
        assertTrue(run.err().contains("40-broken.yaml: Service default/broken: spec.ports[0].port: 70000 is not a port (1-65535)"),
            "manifest errors go to stderr: " + run.err());
    }

    @Test
    void shouldPrintReadableLinesWithoutJson() {
        final Run run = run(trace("--proto", "tcp", "--src", "10.244.1.9", "--dst", "172.30.0.41", "--dport", "80"));
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("TCP 10.244.1.9:40000 -> 172.30.0.41:80\n"), run.out());
        assertTrue(run.out().contains("verdict:    DNAT to 10.244."), run.out());
        assertTrue(run.out().contains("service:    default/web:http"), run.out());
    }

    @Test
    void shouldTraceFlowsFilePrintingOneLinePerFlowAndErrorsForBadLines() throws Exception {
        final Run run = run(trace("--flows", resource("flows.jsonl"), "--json"));
        assertEquals(1, run.exitCode(), "a bad line makes the exit code non-zero: " + run.err());
        final List<JsonNode> lines = run.jsonLines();
        assertEquals(4, lines.size(), run.out());

        assertEquals("DNAT", lines.get(0).get("verdict").asText());
        assertEquals("default/web:http", lines.get(0).get("service").asText());

        final JsonNode nodePort = lines.get(1);
        assertEquals("DNAT", nodePort.get("verdict").asText(), nodePort.toString());
        assertEquals("tools/echo:udp-echo", nodePort.get("service").asText());
        assertEquals("10.244.1.20:7007", nodePort.get("selected").asText(), "the not-ready endpoint is not used");
        assertTrue(nodePort.get("masquerade").asBoolean(), "external NodePort traffic with policy Cluster is masqueraded");

        assertEquals("line 4: dport: is required", lines.get(2).get("error").asText());

        final JsonNode noEndpoints = lines.get(3);
        assertEquals("REJECT", noEndpoints.get("verdict").asText(), noEndpoints.toString());
        assertEquals("default/lonely:443", noEndpoints.get("service").asText());
        assertTrue(noEndpoints.get("selected").isNull());
        assertEquals(List.of(), texts(noEndpoints.get("candidates")));
    }

    @Test
    void shouldExitTwoNamingFileAndFieldForBadNodeConfig() throws Exception {
        final Path config = dir.resolve("node.yaml");
        Files.writeString(config, "nodeName: a\nnodeIPs: [1.2.3.4]\nnodePortRange: 40000-30000\n");
        final Run run = run("trace", "--node-config", config.toString(), "--manifests", resource("manifests"),
            "--proto", "TCP", "--src", "10.0.0.1", "--dst", "172.30.0.41", "--dport", "80");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains(config + ": nodePortRange: '40000-30000' starts after it ends"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void shouldExitTwoWithUsageForMissingOrBadOptions() {
        final Run missing = run(trace("--proto", "TCP", "--src", "10.0.0.1", "--dst", "172.30.0.41"));
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("--dport"), missing.err());
        assertTrue(missing.err().contains("Usage:"), missing.err());

        final Run badAddress = run(trace("--proto", "TCP", "--src", "10.0.0.300", "--dst", "172.30.0.41", "--dport", "80"));
        assertEquals(2, badAddress.exitCode());
        assertTrue(badAddress.err().contains("'10.0.0.300' is not an IPv4 address"), badAddress.err());

        final Run both = run(trace("--flows", resource("flows.jsonl"), "--proto", "TCP", "--src", "10.0.0.1",
            "--dst", "172.30.0.41", "--dport", "80"));
        assertEquals(2, both.exitCode());
        assertFalse(both.err().isEmpty());
    }

    @Test
    void shouldExitTwoWithUsageWithoutCommand() {
        final Run run = run();
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("Usage: ferry"), run.err());
    }

    private static List<String> texts(final JsonNode array) {
        final List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }

    private static List<String> iterable(final java.util.Iterator<String> names) {
        final List<String> values = new ArrayList<>();
        names.forEachRemaining(values::add);
        return values;
    }
}
