package dev.ferry.control.source.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Connections to the Kubernetes API server: from a kubeconfig file ({@code --kubeconfig}) or, in
 * a pod, from its service account (in-cluster config). Either way the client uses the JDK's HTTP
 * client, retries nothing by itself (the informers reconnect with their own backoff, and the
 * source's probe must see a failure as it happens), and times out a request after
 * {@value #REQUEST_TIMEOUT_MS} ms.
 *
 * <p>In-cluster config reads {@code KUBERNETES_SERVICE_HOST} and {@code KUBERNETES_SERVICE_PORT}.
 * In a pod these name the {@code kubernetes} Service's ClusterIP, which only works once a proxy
 * serves it: when Ferry is that proxy, the DaemonSet sets both to the API server's real address
 * (docs/KUBERNETES.md).
 */
public final class KubeApi {
    static final String SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
    static final int REQUEST_TIMEOUT_MS = 10_000;
    static final int CONNECTION_TIMEOUT_MS = 5_000;
    static final int WATCH_RECONNECT_INTERVAL_MS = 1_000;

    private KubeApi() {
    }

    /** A client for the cluster and user that {@code file}'s current context names. */
    public static KubernetesClient fromKubeconfig(final Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--kubeconfig " + file + ": no such file");
        }
        final Config config;
        try {
            config = Config.fromKubeconfig(file.toFile());
        } catch (final RuntimeException e) {
            throw new IllegalArgumentException("--kubeconfig " + file + ": cannot use it: " + e.getMessage(), e);
        }
        if (config.getMasterUrl() == null || config.getMasterUrl().isEmpty()) {
            throw new IllegalArgumentException("--kubeconfig " + file + ": its current context names no cluster server");
        }
        return build(config);
    }

    /** True when this process runs in a pod with a service account: in-cluster config is possible. */
    public static boolean inClusterAvailable() {
        return inClusterAvailable(System::getenv, Path.of(SERVICE_ACCOUNT_DIR));
    }

    static boolean inClusterAvailable(final Function<String, String> env, final Path serviceAccount) {
        return env.apply("KUBERNETES_SERVICE_HOST") != null && env.apply("KUBERNETES_SERVICE_PORT") != null
            && Files.isRegularFile(serviceAccount.resolve("token"));
    }

    /**
     * A client with the pod's service account: the API server at {@code KUBERNETES_SERVICE_HOST:PORT},
     * its CA from the service account, and the token re-read for each request (projected tokens rotate).
     */
    public static KubernetesClient inCluster() {
        return build(inClusterConfig(System::getenv, Path.of(SERVICE_ACCOUNT_DIR)));
    }

    /** In-cluster config from {@code env} and the service account files in {@code serviceAccount}. */
    static Config inClusterConfig(final Function<String, String> env, final Path serviceAccount) {
        if (!inClusterAvailable(env, serviceAccount)) {
            throw new IllegalStateException("not in a pod with a service account: KUBERNETES_SERVICE_HOST, "
                + "KUBERNETES_SERVICE_PORT and " + serviceAccount.resolve("token") + " are needed for in-cluster config");
        }
        final String host = env.apply("KUBERNETES_SERVICE_HOST");
        final String port = env.apply("KUBERNETES_SERVICE_PORT");
        final Config config = Config.empty();
        config.setMasterUrl("https://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + "/");
        final Path ca = serviceAccount.resolve("ca.crt");
        if (Files.isRegularFile(ca)) {
            config.setCaCertFile(ca.toString());
        }
        final Path token = serviceAccount.resolve("token");
        config.setOauthTokenProvider(() -> {
            try {
                return Files.readString(token, StandardCharsets.UTF_8).trim();
            } catch (final IOException e) {
                throw new UncheckedIOException("cannot read the service account token " + token + ": " + e.getMessage(), e);
            }
        });
        return config;
    }

    private static KubernetesClient build(final Config config) {
        config.setRequestTimeout(REQUEST_TIMEOUT_MS);
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        config.setRequestRetryBackoffLimit(0);
        config.setWatchReconnectInterval(WATCH_RECONNECT_INTERVAL_MS);
        return new KubernetesClientBuilder().withConfig(config).withHttpClientFactory(new JdkHttpClientFactory()).build();
    }
}
