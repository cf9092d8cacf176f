package dev.ferry.control.source.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the agent connects: a kubeconfig file, or the pod's service account. */
class KubeApiTest {
    @TempDir
    Path dir;

    @Test
    void shouldUseThePodsServiceAccountWithTheTokenReadAfresh() throws Exception {
        Files.writeString(dir.resolve("token"), "first\n");
        Files.writeString(dir.resolve("ca.crt"), "not checked here");
        final Map<String, String> env = Map.of("KUBERNETES_SERVICE_HOST", "198.18.0.2", "KUBERNETES_SERVICE_PORT", "6443");
        assertTrue(KubeApi.inClusterAvailable(env::get, dir));

        final Config config = KubeApi.inClusterConfig(env::get, dir);
        assertEquals("https://198.18.0.2:6443/", config.getMasterUrl());
        assertEquals(dir.resolve("ca.crt").toString(), config.getCaCertFile());
        assertEquals("first", config.getOauthTokenProvider().getToken());
        Files.writeString(dir.resolve("token"), "rotated\n");
        assertEquals("rotated", config.getOauthTokenProvider().getToken(), "projected tokens rotate: read at each use");

        assertEquals("https://[fd00::2]:6443/", KubeApi.inClusterConfig(
            Map.of("KUBERNETES_SERVICE_HOST", "fd00::2", "KUBERNETES_SERVICE_PORT", "6443")::get, dir).getMasterUrl());
    }

    @Test
    void shouldSayWhatIsMissingOutsideAPod() {
        final Map<String, String> env = Map.of("KUBERNETES_SERVICE_HOST", "198.18.0.2");
        assertFalse(KubeApi.inClusterAvailable(env::get, dir));
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> KubeApi.inClusterConfig(env::get, dir));
        assertTrue(e.getMessage().contains("KUBERNETES_SERVICE_PORT"), e.getMessage());
    }

    @Test
    void shouldReadTheCurrentContextOfAKubeconfig() throws Exception {
        try (KubernetesClient client = KubeApi.fromKubeconfig(MockApi.kubeconfig(dir, "http://198.18.0.2:8080"))) {
            assertEquals("http://198.18.0.2:8080/", client.getMasterUrl().toString());
            assertEquals(0, client.getConfiguration().getRequestRetryBackoffLimit(),
                "no hidden retries: the informers and the probe decide");
        }
        Files.writeString(dir.resolve("broken"), "clusters: [oops\n");
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> KubeApi.fromKubeconfig(dir.resolve("broken")));
        assertTrue(e.getMessage().startsWith("--kubeconfig " + dir.resolve("broken") + ": cannot use it"), e.getMessage());
    }
}
