package dev.ferry.control.admin;

import java.nio.file.Path;

/**
 * Where a node agent keeps its files and serves its endpoints by default, shared by the agent,
 * the systemd unit ({@code RuntimeDirectory=ferry}, {@code StateDirectory=ferry}) and the
 * operator commands that read them from another process ({@code ferry stat},
 * {@code ferry services}, {@code ferry conntrack}).
 */
public final class AgentPaths {
    /** Runtime files that die with the boot: the counters. systemd's {@code RuntimeDirectory=ferry}. */
    public static final Path DEFAULT_RUN_DIR = Path.of("/run/ferry");
    /** {@link #COUNTERS_FILE} as a constant string, for annotation defaults. */
    public static final String COUNTERS_FILE_PATH = "/run/ferry/counters";
    /** The dataplane's counters file (Agrona counters), read live by {@code ferry stat}. */
    public static final Path COUNTERS_FILE = Path.of(COUNTERS_FILE_PATH);
    /** The control socket's name in the run directory: the only listener that serves changes (conntrack delete). */
    public static final String CONTROL_SOCKET_NAME = "control.sock";
    /** {@link #CONTROL_SOCKET_NAME} in the default run directory, as a string for annotation defaults. */
    public static final String DEFAULT_CONTROL_SOCKET = "/run/ferry/" + CONTROL_SOCKET_NAME;
    /** State that survives an agent restart. systemd's {@code StateDirectory=ferry}. */
    public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/ferry");
    /** The mapped conntrack table: a restarted agent attaches to it and keeps established flows. */
    public static final Path CONNTRACK_FILE = DEFAULT_STATE_DIR.resolve("conntrack");
    /** Configuration. */
    public static final Path DEFAULT_CONFIG_DIR = Path.of("/etc/ferry");
    public static final Path NODE_CONFIG_FILE = DEFAULT_CONFIG_DIR.resolve("node.yaml");
    public static final Path MANIFESTS_DIR = DEFAULT_CONFIG_DIR.resolve("manifests");

    /** kube-proxy's default healthz port: {@code /healthz}, {@code /livez}. */
    public static final int DEFAULT_HEALTHZ_PORT = 10256;
    /** kube-proxy's default metrics port: {@code /metrics}, and Ferry's {@code /services}, {@code /conntrack}. */
    public static final int DEFAULT_METRICS_PORT = 10249;
    /** Both listeners bind to loopback unless configured otherwise. */
    public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";
    /** Where the operator commands find a running agent's metrics listener. */
    public static final String DEFAULT_AGENT_URL = "http://" + DEFAULT_BIND_ADDRESS + ":" + DEFAULT_METRICS_PORT;

    private AgentPaths() {
    }
}
