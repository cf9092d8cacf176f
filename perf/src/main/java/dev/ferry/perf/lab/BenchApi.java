package dev.ferry.perf.lab;

import dev.ferry.control.lab.LabException;
import dev.ferry.nativeio.netns.NetworkNamespace;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The API server of the bench's API-mode runs ({@link Dataplane#api()}): fabric8's Kubernetes
 * mock server in CRUD mode (what is created, updated and deleted through it is stored and watched
 * as on a real API server), listening on 127.0.0.1 inside the node's namespace, where the agent
 * reaches it over loopback (never through ferry0). The objects it holds are parsed from the same
 * manifests the manifest-mode runs write ({@link BenchServices#manifests}), so both modes serve
 * exactly the same Services.
 *
 * <p>Its event loop and the writer's HTTP threads are started from a thread inside the node's
 * namespace, so they stay there (a thread's namespace passes to the threads it starts); every
 * write is made from such a thread as well.
 */
final class BenchApi implements AutoCloseable {
    /** The mock server logs every request at INFO; the reference keeps the level from being collected away. */
    private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");
    /** Writers at once for the initial objects: the mock server takes each create under one lock, so more buy nothing. */
    private static final int CREATE_WRITERS = 4;

    static {
        MOCK_LOG.setLevel(Level.WARNING);
    }

    private final String netns;
    private final KubernetesMockServer server;
    private final KubernetesClient writer;

    private BenchApi(final String netns, final KubernetesMockServer server, final KubernetesClient writer) {
        this.netns = netns;
        this.server = server;
        this.writer = writer;
    }

    /** Starts the mock server on 127.0.0.1 (a free port) in the namespace {@code netns}. */
    static BenchApi start(final String netns) {
        return NetworkNamespace.call(netns, () -> {
            final KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
            server.init(InetAddress.getLoopbackAddress(), 0);
            return new BenchApi(netns, server, server.createClient(new JdkHttpClientFactory()));
        });
    }

    /** A kubeconfig naming this server without credentials, as the agent's {@code --kubeconfig} takes it. */
    Path writeKubeconfig(final Path dir) throws IOException {
        final Path file = dir.resolve("kubeconfig");
        Files.writeString(file, """
            # Written by ferry bench lab: the mock API server in the node's namespace.
            apiVersion: v1
            kind: Config
            clusters:
            - {name: bench, cluster: {server: "http://127.0.0.1:%d/"}}
            users:
            - {name: ferry, user: {}}
            contexts:
            - {name: bench, context: {cluster: bench, user: ferry}}
            current-context: bench
            """.formatted(server.getPort()));
        return file;
    }

    /** Creates the Services and EndpointSlices of {@code ports}, {@value #CREATE_WRITERS} writers at once; returns when all are stored. */
    void createAll(final List<BenchServices.ServicePort> ports) {
        final List<HasMetadata> objects = objects(ports, true);
        inNamespace(() -> {
            try (ExecutorService writers = Executors.newFixedThreadPool(CREATE_WRITERS)) {
                final List<Future<?>> done = new ArrayList<>(objects.size());
                for (final HasMetadata object : objects) {
                    done.add(writers.submit(() -> writer.resource(object).create()));
                }
                for (final Future<?> f : done) {
                    f.get();
                }
            }
            return null;
        });
    }

    /** One service port's Service and EndpointSlice, every endpoint's ready condition {@code ready}: built before a timed write. */
    List<HasMetadata> objects(final BenchServices.ServicePort port, final boolean ready) {
        return objects(List.of(port), ready);
    }

    /** The EndpointSlice of {@code port}, every endpoint's ready condition {@code ready}: built before a timed update. */
    List<HasMetadata> slices(final BenchServices.ServicePort port, final boolean ready) {
        return objects(port, ready).stream().filter(o -> o instanceof EndpointSlice).toList();
    }

    /** Creates {@code objects} one after the other (a Service, then its EndpointSlice), as a controller would. */
    void create(final List<HasMetadata> objects) {
        inNamespace(() -> {
            objects.forEach(o -> writer.resource(o).create());
            return null;
        });
    }

    /** Replaces {@code objects} (an EndpointSlice with other conditions). */
    void update(final List<HasMetadata> objects) {
        inNamespace(() -> {
            objects.forEach(o -> writer.resource(o).update());
            return null;
        });
    }

    /** Deletes the Services and EndpointSlices of {@code ports}. */
    void delete(final List<BenchServices.ServicePort> ports) {
        final List<HasMetadata> objects = objects(ports, true);
        inNamespace(() -> {
            objects.forEach(o -> writer.resource(o).delete());
            return null;
        });
    }

    private List<HasMetadata> objects(final List<BenchServices.ServicePort> ports, final boolean ready) {
        return writer.load(new ByteArrayInputStream(BenchServices.manifests(ports, ready).getBytes(StandardCharsets.UTF_8))).items();
    }

    private <T> T inNamespace(final java.util.concurrent.Callable<T> task) {
        try {
            return NetworkNamespace.call(netns, task);
        } catch (final RuntimeException e) {
            throw new LabException("the mock API server refused a write: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        writer.close();
        server.destroy();
    }
}
