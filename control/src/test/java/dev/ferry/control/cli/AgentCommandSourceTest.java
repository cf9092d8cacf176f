package dev.ferry.control.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ferry agent} serves exactly one source, and says what is missing before it touches anything. */
class AgentCommandSourceTest {
    @TempDir
    Path dir;

    private Path kubeconfig() throws Exception {
        final Path file = dir.resolve("kubeconfig");
        Files.writeString(file, """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
            users: [{name: u, user: {}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """);
        return file;
    }

    @Test
    void shouldRefuseTwoSources() throws Exception {
        final CliRun run = CliRun.run("agent", "--node-name", "node-1", "--node-ip", "198.18.0.11",
            "--manifests", dir.toString(), "--kubeconfig", kubeconfig().toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("give --manifests or --kubeconfig, not both"), run.err());
    }

    @Test
    void shouldAskForASourceOutsideAPod() {
        final CliRun run = CliRun.run("agent", "--node-name", "node-1", "--node-ip", "198.18.0.11");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("no source of Services: give --manifests PATH or --kubeconfig FILE"), run.err());
    }

    @Test
    void shouldNameAMissingKubeconfig() {
        final CliRun run = CliRun.run("agent", "--kubeconfig", dir.resolve("nope").toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--kubeconfig " + dir.resolve("nope") + ": no such file"), run.err());
    }

    @Test
    void shouldAskForTheServiceRangeWhichTheApiDoesNotTell() throws Exception {
        final CliRun run = CliRun.run("agent", "--kubeconfig", kubeconfig().toString(), "--node-name", "node-1",
            "--node-ip", "198.18.0.11", "--pod-cidr", "10.244.1.0/24");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--service-cidr (serviceCIDRs) is needed with the Kubernetes API source"), run.err());
    }

    @Test
    void shouldRefuseAnIdleSpinThatWouldKeepACoreBusy() {
        final CliRun run = CliRun.run("agent", "--node-name", "node-1", "--node-ip", "198.18.0.11", "--manifests", dir.toString(),
            "--idle-spin-us", "5000");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--idle-spin-us must be 0..1000, was 5000"), run.err());
    }
}
