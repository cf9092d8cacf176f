package dev.ferry.control.source;

import dev.ferry.control.testing.TempFiles;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigException;
import dev.ferry.control.config.NodeConfigLoader;
import dev.ferry.control.manifest.ManifestError;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Manifest mode and the node config on fuzzed files. A manifest file of any content, YAML or
 * JSON, goes through the whole reload (parse, validate, allocate, derive endpoints, compile):
 * it must never throw and never end in the pipeline's "internal error" (an exception it caught,
 * that is a bug); a bad object is a rejected object. A node config of any content loads or is
 * refused with a {@link NodeConfigException}, never another exception. Inputs saved under
 * src/test/resources replay in every test run (the examples in docs/examples among them);
 * {@code JAZZER_FUZZ=1} fuzzes (docs/TESTING.md).
 */
@Tag("fuzz")
class ManifestFuzzTest {
    private static final String NODE_YAML = """
        nodeName: node-1
        nodeIPs: [198.18.0.11]
        clusterCIDRs: [10.244.0.0/16]
        podCIDR: 10.244.1.0/24
        serviceCIDRs: [10.96.0.0/12]
        """;
    private static Path dir;
    private static NodeConfig config;

    private static synchronized Path dir() {
        if (dir == null) {
            try {
                dir = Files.createTempDirectory("ferry-manifest-fuzz");
                Files.createDirectories(dir.resolve("manifests"));
                Files.writeString(dir.resolve("base.yaml"), NODE_YAML);
                config = NodeConfigLoader.load(dir.resolve("base.yaml"));
            } catch (final IOException | NodeConfigException e) {
                throw new IllegalStateException(e);
            }
        }
        return dir;
    }

    @AfterAll
    static void removeFiles() throws IOException {
        TempFiles.deleteRecursively(dir);
    }

    @FuzzTest(maxDuration = "30s")
    void shouldRejectOrServeEveryManifestWithoutAnInternalError(final FuzzedDataProvider data) {
        final Path manifests = dir().resolve("manifests");
        final String name = data.consumeBoolean() ? "fuzzed.json" : "fuzzed.yaml";
        write(manifests, name, data.consumeRemainingAsBytes());
        final SourceSnapshot snapshot = new ManifestPipeline(List.of(manifests), config, null).reload(0);
        for (final ManifestError error : snapshot.errors()) {
            assertFalse(error.problem().startsWith("internal error"), error.toString());
        }
    }

    @FuzzTest(maxDuration = "30s")
    void shouldLoadOrRefuseEveryNodeConfig(final byte[] content) {
        final Path file = write(dir(), "node.yaml", content);
        try {
            NodeConfigLoader.load(file);
        } catch (final NodeConfigException refused) {
            // a clear refusal is the other allowed outcome
        }
    }

    /** Replaces {@code dir}'s files with one named {@code name}. */
    private static Path write(final Path directory, final String name, final byte[] content) {
        try {
            try (var files = Files.list(directory)) {
                for (final Path old : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(old) && !old.getFileName().toString().equals("base.yaml")) {
                        Files.delete(old);
                    }
                }
            }
            return Files.write(directory.resolve(name), content);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
