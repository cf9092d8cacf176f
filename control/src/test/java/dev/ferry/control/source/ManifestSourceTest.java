package dev.ferry.control.source;

import dev.ferry.control.manifest.ManifestError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static dev.ferry.control.source.Manifests.DB_SERVICE;
import static dev.ferry.control.source.Manifests.NODE;
import static dev.ferry.control.source.Manifests.WEB_SERVICE;
import static dev.ferry.control.source.Manifests.docs;
import static dev.ferry.control.source.Manifests.hasPort;
import static dev.ferry.control.source.Manifests.pod;
import static dev.ferry.control.source.Manifests.port;
import static dev.ferry.control.source.Manifests.readyAddresses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The watcher on a real directory. Every wait is a bounded poll on the listener's queue for a
 * snapshot with the expected content (an editor's write may be seen half done first); nothing
 * sleeps.
 */
class ManifestSourceTest {
    private static final long WAIT_SECONDS = 20;

    @TempDir
    Path dir;

    private final BlockingQueue<SourceSnapshot> snapshots = new LinkedBlockingQueue<>();
    private final List<ManifestSource> sources = new ArrayList<>();

    @AfterEach
    void closeSources() {
        sources.forEach(ManifestSource::close);
    }

    private ManifestSource source(final List<Path> paths, final Consumer<SourceSnapshot> listener) {
        return source(paths, listener, 20);
    }

    private ManifestSource source(final List<Path> paths, final Consumer<SourceSnapshot> listener, final long minIntervalMs) {
        final ManifestSource source = new ManifestSource(new ManifestSource.Context()
            .paths(paths)
            .nodeConfig(NODE)
            .listener(listener)
            .minIntervalMs(minIntervalMs)
            .rescanPeriodMs(100));
        sources.add(source);
        return source;
    }

    private ManifestSource source(final Path... paths) {
        return source(List.of(paths), snapshots::add);
    }

    /** Like an editor or kubectl: the new content appears at once, through a rename. */
    private static void write(final Path file, final String text) throws IOException {
        final Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(temporary, text);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private SourceSnapshot await(final String what, final Predicate<SourceSnapshot> expected) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        final List<SourceSnapshot> seen = new ArrayList<>();
        while (true) {
            final SourceSnapshot snapshot = snapshots.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (snapshot == null) {
                throw new AssertionError("no snapshot with " + what + " within " + WAIT_SECONDS + " s; saw " + seen);
            }
            if (expected.test(snapshot)) {
                return snapshot;
            }
            seen.add(snapshot);
        }
    }

    @Test
    void shouldHandTheFirstSnapshotToTheListenerOnStart() throws Exception {
        write(dir.resolve("web.yaml"), docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        source(dir).start();
        final SourceSnapshot first = await("web", s -> hasPort(s, "default/web:http"));
        assertEquals(1, first.generation());
        assertEquals(List.of("10.244.1.5"), readyAddresses(first, "default/web:http"));
        assertEquals(1, first.serviceChanges());
    }

    @Test
    void shouldFollowEditsAddingAPodMarkingOneNotReadyAndDeletingAService() throws Exception {
        final Path web = dir.resolve("web.yaml");
        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        write(dir.resolve("db.yaml"), DB_SERVICE);
        final ManifestSource source = source(dir);
        final SourceSnapshot initial = source.loadNow();
        assertTrue(hasPort(initial, "default/db:5432"));
        source.start();

        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), pod("web-1", "10.244.1.6", true)));
        final SourceSnapshot added = await("two ready pods",
            s -> readyAddresses(s, "default/web:http").equals(List.of("10.244.1.5", "10.244.1.6")));
        assertEquals(2, added.generation(), "loadNow's snapshot is the baseline, not handed to the listener");
        assertEquals(0, added.serviceChanges());
        assertEquals(1, added.endpointChanges());
        assertEquals(port(initial, "default/web:http").clusterIps(), port(added, "default/web:http").clusterIps());

        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", false), pod("web-1", "10.244.1.6", true)));
        await("web-0 not ready", s -> readyAddresses(s, "default/web:http").equals(List.of("10.244.1.6")));

        Files.delete(dir.resolve("db.yaml"));
        final SourceSnapshot deleted = await("db gone", s -> !hasPort(s, "default/db:5432"));
        assertEquals(1, deleted.serviceChanges());
        assertTrue(hasPort(deleted, "default/web:http"));
    }

    @Test
    void shouldKeepServingAFileThatBreaksAndReportTheError() throws Exception {
        final Path web = dir.resolve("web.yaml");
        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        final ManifestSource source = source(dir);
        source.start();
        final SourceSnapshot good = await("web", s -> hasPort(s, "default/web:http"));

        write(web, "apiVersion: v1\nkind: Service\nmetadata: {name: web\n");
        final SourceSnapshot broken = await("an error", s -> !s.errors().isEmpty());
        assertEquals(good.servicePorts(), broken.servicePorts(), "the last good state keeps serving");
        final ManifestError error = broken.errors().get(0);
        assertEquals(web.toString(), error.file());
        assertTrue(error.problem().contains("not valid YAML"), error.toString());
        assertEquals(broken.errors(), broken.newErrors());

        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), pod("web-1", "10.244.1.6", true)));
        final SourceSnapshot fixed = await("fixed", s -> s.errors().isEmpty());
        assertEquals(2, readyAddresses(fixed, "default/web:http").size());
    }

    @Test
    void shouldFindADirectoryCreatedAfterStart() throws Exception {
        final Path later = dir.resolve("later");
        source(later).start();
        final SourceSnapshot missing = await("the missing directory reported", s -> !s.errors().isEmpty());
        assertTrue(missing.errors().get(0).toString().endsWith("later: no such file or directory"));

        Files.createDirectories(later);
        write(later.resolve("db.yaml"), DB_SERVICE);
        await("db", s -> hasPort(s, "default/db:5432") && s.errors().isEmpty());

        write(later.resolve("db.yaml"), DB_SERVICE.replace("5432", "6432"));
        await("db on its new port", s -> hasPort(s, "default/db:6432"));
    }

    @Test
    void shouldWatchSingleFilesAndIgnoreTheirNeighbours() throws Exception {
        final Path web = dir.resolve("web.yaml");
        write(web, WEB_SERVICE);
        write(dir.resolve("db.yaml"), DB_SERVICE);
        source(web).start();
        final SourceSnapshot first = await("web", s -> hasPort(s, "default/web:http"));
        assertFalse(hasPort(first, "default/db:5432"), "only the named file is read");

        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        await("web-0", s -> readyAddresses(s, "default/web:http").equals(List.of("10.244.1.5")));
    }

    @Test
    void shouldKeepWatchingAfterTheListenerThrows() throws Exception {
        write(dir.resolve("db.yaml"), DB_SERVICE);
        final AtomicInteger calls = new AtomicInteger();
        source(List.of(dir), snapshot -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("a listener bug");
            }
            snapshots.add(snapshot);
        }).start();
        // The first snapshot was lost to the bug; the next change must still arrive.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (calls.get() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, calls.get(), "the first snapshot reached the listener");
        write(dir.resolve("db.yaml"), DB_SERVICE.replace("5432", "6432"));
        await("db on its new port", s -> hasPort(s, "default/db:6432"));
    }

    @Test
    void shouldRejectStartingTwiceAndCloseIdempotently() throws Exception {
        final ManifestSource source = source(dir);
        source.start();
        assertThrows(IllegalStateException.class, source::start);
        source.close();
        source.close();
        assertThrows(IllegalStateException.class, source::start);
        write(dir.resolve("db.yaml"), DB_SERVICE);
        assertTrue(hasPort(source.loadNow(), "default/db:5432"), "loadNow still reads after close");
    }

    @Test
    void shouldReloadAnIsolatedChangeAtOnceAndBatchTheRestOfTheInterval() throws Exception {
        final long intervalMs = 4_000;
        final Path web = dir.resolve("web.yaml");
        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        final ManifestSource source = source(List.of(dir), snapshots::add, intervalMs);
        source.loadNow();
        source.start();

        // isolated: reloaded long before an interval could have passed
        final long writtenNs = System.nanoTime();
        write(dir.resolve("db.yaml"), DB_SERVICE);
        await("db", s -> hasPort(s, "default/db:5432"));
        final long tookMs = (System.nanoTime() - writtenNs) / 1_000_000;
        assertTrue(tookMs < intervalMs / 2, "an isolated change waits for no interval: " + tookMs + " ms");

        // a burst right after: one reload at the interval's end with all of it
        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), pod("web-1", "10.244.1.6", true)));
        write(web, docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), pod("web-1", "10.244.1.6", true),
            pod("web-2", "10.244.1.7", true)));
        Files.delete(dir.resolve("db.yaml"));
        final SourceSnapshot batched = snapshots.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertTrue(batched != null, "the burst is reloaded");
        assertEquals(List.of("10.244.1.5", "10.244.1.6", "10.244.1.7"), readyAddresses(batched, "default/web:http"),
            "the first reload after the burst holds all of it");
        assertFalse(hasPort(batched, "default/db:5432"));
        assertTrue((System.nanoTime() - writtenNs) / 1_000_000 >= intervalMs, "the burst waited for the interval to end");
    }

    @Test
    void shouldRefuseAnIncompleteContext() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> new ManifestSource(new ManifestSource.Context().nodeConfig(NODE).listener(s -> { })));
        assertEquals("at least one manifest path is required", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ManifestSource(new ManifestSource.Context().paths(List.of(dir))
            .nodeConfig(NODE).listener(s -> { }).minIntervalMs(-1)));
    }
}
