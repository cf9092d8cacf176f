package dev.ferry.control.source.kube;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * fabric8's Kubernetes mock server in CRUD mode (objects created, updated and deleted through it
 * are stored and watched as on a real API server), over plain HTTP, and a client that writes to it
 * as a cluster's controllers would. Create it on a thread inside a network namespace to have it
 * listen there: its event loop threads start from the creating thread.
 */
final class MockApi implements AutoCloseable {
    /** The mock server logs every request at INFO; keep a reference so the level sticks. */
    private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(Level.WARNING);
    }

    static final String SERVICE_CIDRS_PATH = "/apis/networking.k8s.io/v1/servicecidrs";

    final KubernetesMockServer server;
    final KubernetesClient writer;

    private MockApi(final KubernetesMockServer server) {
        this.server = server;
        this.writer = server.createClient(new JdkHttpClientFactory());
    }

    /** On localhost, a free port. */
    static MockApi start() {
        final KubernetesMockServer server = newServer(new KubernetesCrudDispatcher());
        server.init();
        return new MockApi(server);
    }

    /**
     * On localhost, a free port, as an API server from before Kubernetes 1.33: every request for
     * ServiceCIDRs (networking.k8s.io/v1) is answered 404, as a resource the server does not have.
     */
    static MockApi startWithoutServiceCidrs() {
        final KubernetesMockServer server = newServer(new KubernetesCrudDispatcher() {
            @Override
            public MockResponse dispatch(final RecordedRequest request) {
                if (request.getPath().startsWith(SERVICE_CIDRS_PATH)) {
                    return new MockResponse().setResponseCode(404).setBody(
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404,"
                            + "\"message\":\"the server could not find the requested resource\"}");
                }
                return super.dispatch(request);
            }
        });
        server.init();
        return new MockApi(server);
    }

    /** On {@code address:port} (port 0: a free one). */
    static MockApi start(final InetAddress address, final int port) {
        final KubernetesMockServer server = newServer(new KubernetesCrudDispatcher());
        server.init(address, port);
        return new MockApi(server);
    }

    private static KubernetesMockServer newServer(final KubernetesCrudDispatcher dispatcher) {
        return new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    }

    int port() {
        return server.getPort();
    }

    /** A kubeconfig whose current context names {@code serverUrl} without credentials, as {@code --kubeconfig} takes it. */
    static Path kubeconfig(final Path dir, final String serverUrl) throws IOException {
        final Path file = dir.resolve("kubeconfig");
        Files.writeString(file, """
            apiVersion: v1
            kind: Config
            clusters:
            - name: mock
              cluster: {server: "%s"}
            users:
            - name: ferry
              user: {}
            contexts:
            - name: mock
              context: {cluster: mock, user: ferry}
            current-context: mock
            """.formatted(serverUrl));
        return file;
    }

    @Override
    public void close() {
        writer.close();
        server.destroy();
    }
}
