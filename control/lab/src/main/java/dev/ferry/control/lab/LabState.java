package dev.ferry.control.lab;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The lab's files, under one state directory (default {@value #DEFAULT_DIR}, a tmpfs):
 * <pre>
 *   lab.properties                 nodes, portType, agents: what {@code lab up} was asked for
 *   nodes/NODE/node.yaml           the agent's node config
 *   nodes/NODE/manifests/          the agent's manifests (services, one file per pod)
 *   nodes/NODE/run/                the agent's --run-dir (counters, host state)
 *   nodes/NODE/state/              the agent's --state-dir (conntrack, allocations): one per node
 *   logs/agent-NODE.log, logs/pod-NAME.log, logs/controller.log
 * </pre>
 * The namespaces, not these files, are the truth about what is up: {@code lab down} removes
 * every namespace with the lab's prefix even when the state directory is gone.
 */
public record LabState(Path dir) {
    public static final String DEFAULT_DIR = "/run/ferry-lab";

    /** What {@code lab up} was asked for. */
    public record Settings(int nodes, String portType, boolean agents) {
    }

    /** The settings and the namespace prefix of the lab that wrote this state. */
    public record Stored(Settings settings, String prefix) {
    }

    public Path settingsFile() {
        return dir.resolve("lab.properties");
    }

    public Path nodeDir(final LabTopology.Node node) {
        return dir.resolve("nodes").resolve(node.name());
    }

    public Path manifestsDir(final LabTopology.Node node) {
        return nodeDir(node).resolve("manifests");
    }

    public Path logsDir() {
        return dir.resolve("logs");
    }

    public Path agentLog(final LabTopology.Node node) {
        return logsDir().resolve("agent-" + node.name() + ".log");
    }

    public Path podLog(final String podName) {
        return logsDir().resolve("pod-" + podName + ".log");
    }

    public Path controllerLog() {
        return logsDir().resolve("controller.log");
    }

    public void writeSettings(final Settings settings, final String prefix) throws IOException {
        Files.createDirectories(dir);
        final Properties p = new Properties();
        p.setProperty("nodes", Integer.toString(settings.nodes()));
        p.setProperty("portType", settings.portType());
        p.setProperty("agents", Boolean.toString(settings.agents()));
        p.setProperty("prefix", prefix);
        try (Writer out = Files.newBufferedWriter(settingsFile())) {
            p.store(out, "ferry lab");
        }
    }

    /** The settings of the lab that is up, or null when there is no state here. */
    public Settings readSettings() throws IOException {
        final Stored stored = read();
        return stored == null ? null : stored.settings();
    }

    /** What {@code lab up} wrote, or null when there is no state here. */
    public Stored read() throws IOException {
        if (!Files.isRegularFile(settingsFile())) {
            return null;
        }
        final Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(settingsFile())) {
            p.load(in);
        }
        return new Stored(new Settings(Integer.parseInt(p.getProperty("nodes", "2")), p.getProperty("portType", "tun"),
            Boolean.parseBoolean(p.getProperty("agents", "true"))), p.getProperty("prefix", LabTopology.PREFIX));
    }

    /** The last {@code lines} lines of a log, for error messages. */
    public static String tail(final Path log, final int lines) {
        try {
            if (!Files.exists(log)) {
                return "(no log at " + log + ")";
            }
            final var all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (final IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }
}
