package dev.ferry.control.tree;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Large YAML files' documents kept as JSON between an agent's runs, so that a restart with the
 * same manifests does not parse them again: SnakeYAML reads about 3 MB/s cold here (3.7 s of a
 * 10,000-service start went to the 10 MB file), JSON ten times faster. One cache file per
 * manifest path (named by the path's hash) holds the SHA-256 of the content it was parsed from;
 * it is used only for exactly that content, so an edited file is parsed again.
 *
 * <p>Nothing the cache does changes what is read: a file is written only when its JSON reads back
 * equal to the parsed documents (node types included, so a YAML value JSON cannot carry is
 * never cached), it is one JSON value (a torn write does not parse, and is then a miss), and the
 * format version and Jackson's versions are part of the hash. Writing happens on a thread of its
 * own, {@link #DEFAULT_WRITE_DELAY_MS} after the parse: serializing 10 MB and reading it back
 * while the start decodes and compiles on the same two cores made a 10,000-service start take
 * twice as long (8.1 s instead of 3.7-4.3 s to read). A failure (a full or read-only disk) is
 * logged once, costing only the next start's speed.
 */
public final class DocumentCache {
    private static final Logger LOG = Logger.getLogger(DocumentCache.class.getName());
    /** Smaller files parse in a few milliseconds: not worth a file of their own. */
    public static final int MIN_BYTES = 256 * 1024;
    /** Bump when DocumentReader's parser settings change what a file parses to. */
    private static final int FORMAT = 1;
    private static final long STALE_TEMPORARY_MS = 600_000;
    private static final String SUFFIX = ".json";
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    /** How long after a parse its documents are written: past the start (or reload) that parsed them. */
    public static final long DEFAULT_WRITE_DELAY_MS = 5_000;

    private final Path dir;
    private final long writeDelayMs;
    private final AtomicBoolean writeFailureLogged = new AtomicBoolean();
    /** The parse of each file waiting to be written: the latest only. */
    private final Map<Path, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextRequest = new AtomicLong();
    /** Started with the first store. */
    private ScheduledExecutorService writer;

    /** A cache in {@code dir}, created when the first file is written. */
    public DocumentCache(final Path dir) {
        this(dir, DEFAULT_WRITE_DELAY_MS);
    }

    /** A cache in {@code dir} writing {@code writeDelayMs} after each parse. */
    public DocumentCache(final Path dir, final long writeDelayMs) {
        this.dir = dir;
        this.writeDelayMs = writeDelayMs;
    }

    /**
     * The documents {@code content} (the bytes of {@code file}) parsed to before, or null when this
     * content was not cached. The content's hash is the cache file's first field: a file cached for
     * other content (the manifest was edited) is left after reading that far, not parsed whole.
     */
    List<JsonNode> lookup(final Path file, final String contentHash) {
        final Path cached = cacheFile(file);
        if (!Files.isRegularFile(cached)) {
            return null;
        }
        try {
            try (JsonParser head = JSON.createParser(cached.toFile())) {
                if (head.nextToken() != JsonToken.START_OBJECT || !"content".equals(head.nextFieldName())
                    || head.nextToken() != JsonToken.VALUE_STRING || !contentHash.equals(head.getText())) {
                    return null;
                }
            }
            final JsonNode root = JSON.readTree(cached.toFile());
            if (root == null || !contentHash.equals(root.path("content").asText()) || !root.path("documents").isArray()) {
                return null;
            }
            final List<JsonNode> documents = new ArrayList<>(root.get("documents").size());
            root.get("documents").forEach(documents::add);
            return documents;
        } catch (final IOException | RuntimeException e) {
            return null; // torn or foreign: parsed again, and written anew
        }
    }

    /**
     * Remembers {@code documents} as what {@code file}'s content (hash {@code contentHash}) parses
     * to, on the cache's one writer thread, after the write delay (an agent that stops before then
     * keeps nothing: the next start parses again). A newer parse of the same file replaces one not
     * yet written: only the latest is written, and the older tree is let go at once.
     */
    void store(final Path file, final String contentHash, final List<JsonNode> documents) {
        final Pending request = new Pending(contentHash, documents, nextRequest.incrementAndGet());
        pending.put(file, request);
        final long id = request.id();
        writer().schedule(() -> {
            final Pending latest = pending.get(file);
            if (latest != null && latest.id() == id && pending.remove(file, latest)) {
                write(file, latest.contentHash(), latest.documents());
            }
        }, writeDelayMs, TimeUnit.MILLISECONDS);
    }

    private record Pending(String contentHash, List<JsonNode> documents, long id) {
    }

    private synchronized ScheduledExecutorService writer() {
        if (writer == null) {
            writer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("ferry-document-cache").daemon().unstarted(r));
        }
        return writer;
    }

    /** Writes now; false when the documents do not survive JSON unchanged or the file cannot be written. */
    boolean write(final Path file, final String contentHash, final List<JsonNode> documents) {
        final ObjectNode root = JSON.createObjectNode();
        root.put("content", contentHash);
        root.put("file", file.toString());
        final ArrayNode array = root.putArray("documents");
        documents.forEach(array::add);
        Path temporary = null;
        try {
            final byte[] bytes = JSON.writeValueAsBytes(root);
            final JsonNode back = JSON.readTree(bytes).get("documents");
            if (!back.equals(array)) {
                return false; // a value JSON cannot carry as YAML gave it (binary, say): this file is always parsed
            }
            Files.createDirectories(dir);
            temporary = Files.createTempFile(dir, ".write-", ".tmp");
            Files.write(temporary, bytes);
            try {
                Files.move(temporary, cacheFile(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (final AtomicMoveNotSupportedException e) {
                Files.move(temporary, cacheFile(file), StandardCopyOption.REPLACE_EXISTING);
            }
            writeFailureLogged.set(false);
            return true;
        } catch (final IOException | RuntimeException e) {
            if (writeFailureLogged.compareAndSet(false, true)) {
                LOG.warning("cannot keep the parsed manifests of " + file + " in " + dir + " (the next start parses the file again): " + e);
            }
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (final IOException ignored) {
                    // the failure is logged already
                }
            }
            return false;
        }
    }

    /**
     * Deletes the cache files of every manifest path but {@code paths} (files gone from the
     * manifests), and temporary files a writer stopped in the middle of left (those older than
     * {@value #STALE_TEMPORARY_MS} ms: a younger one may be a write under way).
     */
    public void retainOnly(final Set<Path> paths) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        final Set<String> keep = paths.stream().map(p -> cacheFile(p).getFileName().toString()).collect(Collectors.toSet());
        try (var entries = Files.list(dir)) {
            for (final Path entry : entries.toList()) {
                final String name = entry.getFileName().toString();
                final boolean staleTemporary = name.startsWith(".write-")
                    && Files.getLastModifiedTime(entry).toMillis() < System.currentTimeMillis() - STALE_TEMPORARY_MS;
                if ((name.endsWith(SUFFIX) && !keep.contains(name)) || staleTemporary) {
                    Files.deleteIfExists(entry);
                }
            }
        } catch (final IOException e) {
            LOG.fine("cannot prune " + dir + ": " + e);
        }
    }

    /** The hash a cache entry is checked against: the content's, the format's and Jackson's versions. */
    static String contentHash(final byte[] content) {
        final MessageDigest sha = sha256();
        // what the trees are made with: the YAML module (and through it SnakeYAML's release) and the tree model's library
        sha.update(("ferry-document-cache " + FORMAT + " yaml " + com.fasterxml.jackson.dataformat.yaml.PackageVersion.VERSION
            + " databind " + com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION
            + " core " + com.fasterxml.jackson.core.json.PackageVersion.VERSION + "\n").getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest(content));
    }

    private Path cacheFile(final Path file) {
        final byte[] name = sha256().digest(file.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
        return dir.resolve(HexFormat.of().formatHex(name, 0, 16) + SUFFIX);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
