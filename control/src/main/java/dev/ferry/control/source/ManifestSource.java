package dev.ferry.control.source;

import dev.ferry.control.tree.DocumentCache;
import dev.ferry.control.allocate.AllocationStore;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.manifest.ManifestReader;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The agent's manifest source: watches manifest directories and files and, on every change,
 * hands a new {@link SourceSnapshot} to a listener, on the source's own thread.
 *
 * <p>Changes are seen two ways: a {@link WatchService} on each directory (for a file, on its
 * parent), and a rescan every {@link Context#rescanPeriodMs} comparing each file's
 * {@link FileState}, because watch events can be lost (overflow, directories that appear later,
 * network file systems). Reloads follow kube-proxy's minSyncPeriod: the first change after a
 * quiet period is reloaded at once; changes within {@link Context#minIntervalMs} of the last
 * reload wait for that interval to end and are reloaded together. So an isolated change costs
 * no wait, and a burst at most one reload per interval. (A file caught half written, by a
 * writer that does not rename into place, keeps its last good version until the next reload
 * reads it whole.) A reload re-reads only the files whose state changed, and one whose result
 * equals the previous one (an edited comment) is not handed on.
 *
 * <p>Manifest mode and "the last good state keeps serving" are {@link ManifestPipeline}'s job.
 * Problems are reported in the snapshot's errors, never thrown out of the watcher thread; a
 * listener that throws is logged and called again on the next change.
 *
 * <pre>
 * ManifestSource source = new ManifestSource(new ManifestSource.Context()
 *     .paths(List.of(Path.of("/etc/ferry/manifests")))
 *     .nodeConfig(config)
 *     .allocationStateFile(Path.of("/var/lib/ferry/allocations.json"))
 *     .listener(snapshot -&gt; sync.setDesired(snapshot.servicePorts(), snapshot.changedAtMs())));
 * SourceSnapshot first = source.loadNow();   // synchronously, before traffic flows
 * source.start();                            // later changes go to the listener
 * </pre>
 */
public final class ManifestSource implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ManifestSource.class.getName());

    /** Changes within this of the last reload are batched: at 10,000 services a reload costs 5-8 ms. */
    public static final long DEFAULT_MIN_INTERVAL_MS = 10;
    public static final long DEFAULT_RESCAN_PERIOD_MS = 2000;
    private static final long CLOSE_WAIT_MS = 5000;

    /** The source's configuration; {@link #conclude()} checks it once, before anything starts. */
    public static final class Context {
        private List<Path> paths = List.of();
        private NodeConfig nodeConfig;
        private Consumer<SourceSnapshot> listener;
        private Path allocationStateFile;
        private long minIntervalMs = DEFAULT_MIN_INTERVAL_MS;
        private boolean names = true;
        private Path documentCacheDir;
        private long rescanPeriodMs = DEFAULT_RESCAN_PERIOD_MS;
        private String threadName = "ferry-manifest-source";

        /** Manifest directories (their *.yaml, *.yml, *.json files) and single files, read in this order. */
        public Context paths(final List<Path> paths) {
            this.paths = List.copyOf(paths);
            return this;
        }

        /** The node config: service CIDRs and NodePort range to allocate from, node name for local endpoints. */
        public Context nodeConfig(final NodeConfig nodeConfig) {
            this.nodeConfig = nodeConfig;
            return this;
        }

        /** Called with each snapshot that differs from the previous one, on the source's thread. */
        public Context listener(final Consumer<SourceSnapshot> listener) {
            this.listener = listener;
            return this;
        }

        /** A JSON file keeping allocated ClusterIPs and NodePorts across restarts; none (in memory only) by default. */
        public Context allocationStateFile(final Path file) {
            this.allocationStateFile = file;
            return this;
        }

        /** Least time between two reloads: changes within it of the last reload are batched until it ends. */
        public Context minIntervalMs(final long minIntervalMs) {
            this.minIntervalMs = minIntervalMs;
            return this;
        }

        /** How often files are compared with what was last read, in case a watch event was lost. */
        public Context rescanPeriodMs(final long rescanPeriodMs) {
            this.rescanPeriodMs = rescanPeriodMs;
            return this;
        }

        /** Where large manifest files' parsed documents are kept across starts ({@code DocumentCache}); default: nowhere. */
        public Context documentCacheDir(final Path dir) {
            this.documentCacheDir = dir;
            return this;
        }

        /** False when nothing reads the services' DNS names (the agent without a DNS server): none are made. Default true. */
        public Context names(final boolean wanted) {
            this.names = wanted;
            return this;
        }

        public Context threadName(final String threadName) {
            this.threadName = threadName;
            return this;
        }

        public List<Path> paths() {
            return paths;
        }

        public long minIntervalMs() {
            return minIntervalMs;
        }

        public long rescanPeriodMs() {
            return rescanPeriodMs;
        }

        /** Checks the configuration; throws {@link IllegalArgumentException} naming what is missing or wrong. */
        public Context conclude() {
            if (paths.isEmpty()) {
                throw new IllegalArgumentException("at least one manifest path is required");
            }
            Objects.requireNonNull(nodeConfig, "nodeConfig is required");
            Objects.requireNonNull(listener, "listener is required");
            if (minIntervalMs < 0 || rescanPeriodMs <= 0) {
                throw new IllegalArgumentException("need minIntervalMs (" + minIntervalMs + ") >= 0 and rescanPeriodMs ("
                    + rescanPeriodMs + ") > 0");
            }
            return this;
        }
    }

    private final Context context;
    private final ManifestPipeline pipeline;
    private final Object lock = new Object();
    private final Thread thread;
    private volatile boolean running;
    private boolean started;
    private boolean closed;
    private WatchService watchService;
    private final Map<WatchKey, Path> watchedDirectories = new HashMap<>();
    /** Guarded by {@link #lock}: the files as they were just before the last reload read them. */
    private List<FileState> lastSeen;

    public ManifestSource(final Context context) {
        this.context = context.conclude();
        this.pipeline = new ManifestPipeline(context.paths, context.nodeConfig,
            context.allocationStateFile == null ? null : new AllocationStore(context.allocationStateFile)).nameServices(context.names)
            .documentCache(context.documentCacheDir == null ? null : new DocumentCache(context.documentCacheDir));
        this.thread = Thread.ofPlatform().name(context.threadName).daemon(true).unstarted(this::run);
    }

    /** A source with default timings and allocations kept in memory only. */
    public ManifestSource(final NodeConfig nodeConfig, final List<Path> paths, final Consumer<SourceSnapshot> listener) {
        this(new Context().nodeConfig(nodeConfig).paths(paths).listener(listener));
    }

    /**
     * What an agent with these paths and allocation state file would serve, read once without
     * watching and without writing the state file: for {@code ferry trace} and tools that look
     * at manifest-mode files. {@code allocationStateFile} may be null or not exist yet.
     */
    public static SourceSnapshot readOnce(final NodeConfig nodeConfig, final List<Path> paths, final Path allocationStateFile) {
        return new ManifestPipeline(paths, nodeConfig, allocationStateFile == null ? null : new AllocationStore(allocationStateFile),
            false).reload(System.currentTimeMillis());
    }

    /**
     * Reloads now, on the caller's thread, and returns the result, also when it equals the
     * previous one. The snapshot is not handed to the listener; it becomes the baseline that the
     * next snapshot's changes are counted against. Safe while the watcher runs.
     */
    public SourceSnapshot loadNow() {
        reload(System.currentTimeMillis());
        synchronized (lock) {
            return pipeline.storePending(); // nothing serves it yet: written before it is returned
        }
    }

    /** The last reload's stages in ms ("read 2.1 merge 0.3 ..."), for the start-up log. */
    public String describeLastStages() {
        synchronized (lock) {
            return pipeline.describeLastStages();
        }
    }

    /** The last snapshot produced by {@link #loadNow()} or the watcher, or null before the first. */
    public SourceSnapshot latest() {
        synchronized (lock) {
            return pipeline.previous();
        }
    }

    /**
     * Starts watching. Unless {@link #loadNow()} ran before, the first reload happens at once and
     * its snapshot goes to the listener. Throws when the file system offers no watch service.
     */
    public void start() throws IOException {
        synchronized (lock) {
            if (started || closed) {
                throw new IllegalStateException(closed ? "closed" : "already started");
            }
            started = true;
            watchService = FileSystems.getDefault().newWatchService();
            running = true;
        }
        thread.start();
    }

    /** Stops watching and waits for the watcher thread to end; idempotent. A reload in progress completes first. */
    @Override
    public void close() {
        running = false;
        final WatchService watch;
        synchronized (lock) {
            closed = true;
            watch = watchService;
        }
        if (watch != null) {
            try {
                watch.close(); // wakes the watcher from poll()
            } catch (final IOException e) {
                LOG.log(Level.FINE, "closing the watch service", e);
            }
        }
        if (thread.isAlive() && Thread.currentThread() != thread) {
            try {
                thread.join(CLOSE_WAIT_MS);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A reload's result and the snapshot it followed (null for the first). */
    private record Reloaded(SourceSnapshot before, SourceSnapshot after) {
    }

    private Reloaded reload(final long changedAtMs) {
        synchronized (lock) {
            final SourceSnapshot before = pipeline.previous();
            final List<FileState> seen = scan();
            final SourceSnapshot after = pipeline.reload(changedAtMs);
            lastSeen = seen;
            return new Reloaded(before, after);
        }
    }

    private void run() {
        final long minIntervalNs = TimeUnit.MILLISECONDS.toNanos(context.minIntervalMs);
        final long rescanNs = TimeUnit.MILLISECONDS.toNanos(context.rescanPeriodMs);
        try {
            register();
            final boolean loaded;
            synchronized (lock) {
                loaded = pipeline.previous() != null;
            }
            if (!loaded) {
                publish(System.currentTimeMillis());
            }
            long nextRescanNs = System.nanoTime() + rescanNs;
            long lastReloadNs = System.nanoTime() - minIntervalNs; // the first change goes at once
            boolean dirty = false;
            long dirtySinceMs = 0;
            while (running) {
                long now = System.nanoTime();
                final long wakeAt = dirty ? Math.min(nextRescanNs, lastReloadNs + minIntervalNs) : nextRescanNs;
                final WatchKey key = watchService.poll(Math.max(0, wakeAt - now), TimeUnit.NANOSECONDS);
                now = System.nanoTime();
                boolean changed = key != null && drain(key);
                if (now - nextRescanNs >= 0) {
                    nextRescanNs = now + rescanNs;
                    register(); // directories that appeared, or were replaced, since
                    final List<FileState> seen;
                    synchronized (lock) {
                        seen = lastSeen;
                    }
                    changed |= !scan().equals(seen);
                }
                if (changed && !dirty) {
                    dirty = true;
                    dirtySinceMs = System.currentTimeMillis();
                }
                if (dirty && now - (lastReloadNs + minIntervalNs) >= 0) {
                    dirty = false;
                    lastReloadNs = now;
                    publish(dirtySinceMs);
                }
            }
        } catch (final ClosedWatchServiceException | InterruptedException e) {
            // closed: done
        } catch (final RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "manifest watcher stopped by an unexpected error; manifests are no longer reloaded", e);
        }
    }

    private void publish(final long changedAtMs) {
        final Reloaded reloaded = reload(changedAtMs);
        final SourceSnapshot snapshot = reloaded.after();
        if (running && snapshot.differsFrom(reloaded.before())) {
            deliver(snapshot);
        }
        // the allocations are written once the change is on its way to the dataplane
        final SourceSnapshot stored;
        synchronized (lock) {
            stored = pipeline.storePending();
        }
        if (stored != snapshot && running) {
            deliver(stored); // the write failed, or worked again after failing: say so
        }
    }

    private void deliver(final SourceSnapshot snapshot) {
        try {
            context.listener.accept(snapshot);
        } catch (final RuntimeException e) {
            LOG.log(Level.WARNING, "manifest source listener failed on snapshot " + snapshot.generation(), e);
        }
    }

    /** True when one of the key's events concerns a watched path. Resets the key; forgets it when its directory is gone. */
    private boolean drain(final WatchKey first) {
        boolean relevant = false;
        WatchKey key = first;
        while (key != null) {
            final Path directory = watchedDirectories.get(key);
            for (final WatchEvent<?> event : key.pollEvents()) {
                relevant |= directory != null && concerns(directory, event);
            }
            if (!key.reset()) {
                watchedDirectories.remove(key);
                relevant = true; // the directory went away
            }
            key = watchService.poll();
        }
        return relevant;
    }

    /**
     * In a watched directory, an event on a manifest file's name counts (created, written,
     * renamed into place or deleted), and one on a "..name" (Kubernetes volumes swap a "..data"
     * symlink); a writer's temporary file (".web.yaml.tmp", vim's "4913") does not, so that the
     * rename that follows it is the change reloaded at once. In the parent of a watched file only
     * events on that file or on such a symlink count.
     */
    private boolean concerns(final Path directory, final WatchEvent<?> event) {
        if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
            return true;
        }
        final Path name = (Path) event.context();
        final boolean volumeSwap = name.toString().startsWith("..");
        for (final Path path : context.paths) {
            if (path.equals(directory) && (volumeSwap || ManifestReader.isManifestName(name))) {
                return true;
            }
            if (directory.equals(parentOf(path)) && (path.getFileName().equals(name) || volumeSwap)) {
                return true;
            }
        }
        return false;
    }

    private static Path parentOf(final Path path) {
        return path.toAbsolutePath().getParent();
    }

    /** Watches each path's directory (a directory itself, a file's parent) that exists and is not watched yet. */
    private void register() {
        final Set<Path> directories = new HashSet<>();
        for (final Path path : context.paths) {
            final Path directory = Files.isDirectory(path) ? path : parentOf(path);
            if (directory != null && Files.isDirectory(directory)) {
                directories.add(directory);
            }
        }
        directories.removeAll(watchedDirectories.values());
        for (final Path directory : directories) {
            try {
                watchedDirectories.put(directory.register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY), directory);
            } catch (final IOException e) {
                LOG.log(Level.WARNING, "cannot watch " + directory + " (" + e.getMessage() + "); rescanning every "
                    + context.rescanPeriodMs + " ms instead");
            }
        }
    }

    /** The manifest files as they are now, in reading order; a path that does not exist is an entry of its own. */
    private List<FileState> scan() {
        final List<FileState> states = new ArrayList<>();
        for (final Path path : context.paths) {
            if (Files.isDirectory(path)) {
                try (Stream<Path> entries = Files.list(path)) {
                    entries.filter(ManifestReader::isManifestFile).sorted().forEach(file -> states.add(FileState.of(file)));
                } catch (final IOException e) {
                    states.add(FileState.unlistable(path, e.getMessage()));
                }
            } else {
                states.add(FileState.of(path));
            }
        }
        return states;
    }
}
