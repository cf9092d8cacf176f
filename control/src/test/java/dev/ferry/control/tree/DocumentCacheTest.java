package dev.ferry.control.tree;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DocumentCacheTest {
    @TempDir
    Path dir;

    /** Enough Services to pass {@link DocumentCache#MIN_BYTES}, with values of every scalar type YAML gives. */
    private static String manifests(final int services, final String extra) {
        final StringBuilder y = new StringBuilder();
        for (int i = 0; i < services; i++) {
            y.append("---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-").append(i).append(", namespace: bench, labels: {quoted: \"80\", ")
                .append("yes-word: yes, hex: 0x1F, float: 1.5, empty: null, flag: true, big: 12345678901234}}\n")
                .append("spec:\n  clusterIP: 10.97.").append(i >> 8).append('.').append(i & 0xff).append("\n  ports:\n")
                .append("  - {name: http, protocol: TCP, port: 80, targetPort: 8080}\n");
        }
        return y.append(extra).toString();
    }

    private Path write(final String name, final String text) throws IOException {
        final Path file = dir.resolve(name);
        Files.writeString(file, text);
        assertTrue(Files.size(file) >= DocumentCache.MIN_BYTES || text.length() < 1000, "the large test file is large enough");
        return file;
    }

    /** Waits (bounded) for the cache's writer thread to put a file into {@code cacheDir}; returns it. */
    private static Path awaitCacheFile(final Path cacheDir) throws Exception {
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(cacheDir)) {
                try (var entries = Files.list(cacheDir)) {
                    final List<Path> done = entries.filter(p -> p.getFileName().toString().endsWith(".json")).toList();
                    if (!done.isEmpty()) {
                        return done.getFirst();
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no cache file written in " + cacheDir + " within 20 s");
    }

    @Test
    void shouldGiveALargeFilesDocumentsFromTheCacheOnTheNextReadExactlyAsParsed() throws Exception {
        final Path file = write("big.yaml", manifests(2_000, ""));
        final DocumentCache cache = new DocumentCache(dir.resolve("cache"), 0);
        final List<JsonNode> parsed = DocumentReader.readAll(file);
        assertEquals(parsed, DocumentReader.readAll(file, cache), "a miss parses");
        final Path cached = awaitCacheFile(dir.resolve("cache"));

        // a second agent (a new cache object) reads the same content: the same trees, node types included
        final List<JsonNode> again = DocumentReader.readAll(file, new DocumentCache(dir.resolve("cache"), 0));
        assertEquals(parsed, again);
        assertEquals(parsed.get(0).at("/metadata/labels/big").getNodeType(), again.get(0).at("/metadata/labels/big").getNodeType());

        // and it did come from the cache: a marker put into the cached copy shows
        Files.writeString(cached, Files.readString(cached).replaceFirst("\"svc-0\"", "\"from-the-cache\""));
        assertEquals("from-the-cache", DocumentReader.readAll(file, cache).get(0).at("/metadata/name").asText());
    }

    @Test
    void shouldParseAnEditedFileAgainInsteadOfServingItsCachedContent() throws Exception {
        final Path file = write("big.yaml", manifests(2_000, ""));
        final DocumentCache cache = new DocumentCache(dir.resolve("cache"), 0);
        DocumentReader.readAll(file, cache);
        awaitCacheFile(dir.resolve("cache"));
        Files.writeString(file, manifests(2_000, "---\napiVersion: v1\nkind: Service\nmetadata: {name: added, namespace: bench}\n"));
        final List<JsonNode> read = DocumentReader.readAll(file, cache);
        assertEquals(2_001, read.size());
        assertEquals("added", read.getLast().at("/metadata/name").asText());
    }

    @Test
    void shouldParseWhenTheCachedCopyIsTornAndStillRejectABrokenFile() throws Exception {
        final Path file = write("big.yaml", manifests(2_000, ""));
        final DocumentCache cache = new DocumentCache(dir.resolve("cache"), 0);
        final List<JsonNode> parsed = DocumentReader.readAll(file, cache);
        final Path cached = awaitCacheFile(dir.resolve("cache"));
        final byte[] whole = Files.readAllBytes(cached);
        Files.write(cached, java.util.Arrays.copyOf(whole, whole.length / 2)); // a write cut short
        assertEquals(parsed, DocumentReader.readAll(file, cache));

        final Path broken = write("broken.yaml", manifests(2_000, "---\nmetadata: {name: [unclosed\n"));
        final DocumentException e = assertThrows(DocumentException.class, () -> DocumentReader.readAll(broken, cache));
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
    }

    @Test
    void shouldKeepNothingJsonCannotCarryAndNothingOnADiskItCannotWrite() throws Exception {
        final DocumentCache cache = new DocumentCache(dir.resolve("cache"), 0);
        final JsonNode binary = JsonNodeFactory.instance.objectNode().set("data", BinaryNode.valueOf(new byte[] {1, 2, 3}));
        assertFalse(cache.write(dir.resolve("a.yaml"), "hash", List.of(binary)), "binary comes back from JSON as text");
        assertFalse(Files.exists(dir.resolve("cache")), "nothing written");

        Files.writeString(dir.resolve("not-a-directory"), "x");
        final DocumentCache unwritable = new DocumentCache(dir.resolve("not-a-directory"), 0);
        assertFalse(unwritable.write(dir.resolve("a.yaml"), "hash", List.of(JsonNodeFactory.instance.textNode("x"))));
        final Path file = write("big.yaml", manifests(2_000, ""));
        assertEquals(2_000, DocumentReader.readAll(file, unwritable).size(), "reading goes on without the cache");
    }

    @Test
    void shouldWriteOnlyTheLatestParseOfAFileChangedAgainBeforeItsWrite() throws Exception {
        final Path cacheDir = dir.resolve("cache");
        final DocumentCache cache = new DocumentCache(cacheDir, 300);
        final Path file = dir.resolve("big.yaml");
        cache.store(file, "first", List.of(JsonNodeFactory.instance.textNode("one")));
        cache.store(file, "second", List.of(JsonNodeFactory.instance.textNode("two")));
        final Path cached = awaitCacheFile(cacheDir);
        Thread.sleep(600); // past both writes' times
        assertEquals(List.of(JsonNodeFactory.instance.textNode("two")), cache.lookup(file, "second"));
        assertEquals(null, cache.lookup(file, "first"), "the older parse was never written");
        assertTrue(Files.readString(cached).startsWith("{\"content\":\"second\""), "the hash leads the file: a miss reads no further");
    }

    @Test
    void shouldLeaveSmallFilesAloneAndForgetFilesThatLeftTheManifests() throws Exception {
        final Path cacheDir = dir.resolve("cache");
        final DocumentCache cache = new DocumentCache(cacheDir, 0);
        DocumentReader.readAll(write("small.yaml", manifests(3, "")), cache);
        final Path big = write("big.yaml", manifests(2_000, ""));
        DocumentReader.readAll(big, cache);
        final Path cached = awaitCacheFile(cacheDir);
        try (var entries = Files.list(cacheDir)) {
            assertEquals(1, entries.count(), "the small file has no cache file");
        }
        cache.retainOnly(Set.of(big));
        assertTrue(Files.exists(cached));
        cache.retainOnly(Set.of(dir.resolve("other.yaml")));
        assertFalse(Files.exists(cached));
        assertNotEquals(DocumentCache.contentHash(new byte[] {1}), DocumentCache.contentHash(new byte[] {2}));
    }
}
