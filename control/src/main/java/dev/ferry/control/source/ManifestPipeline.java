package dev.ferry.control.source;

import dev.ferry.control.tree.DocumentCache;
import dev.ferry.control.allocate.AllocationStore;
import dev.ferry.control.allocate.Allocations;
import dev.ferry.control.allocate.ServiceAllocator;
import dev.ferry.control.compile.CompiledServices;
import dev.ferry.control.compile.ServicePortCompiler;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.dns.ServiceNames;
import dev.ferry.control.endpoints.EndpointsController;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.manifest.ManifestFile;
import dev.ferry.control.manifest.ManifestReader;
import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.KubeObject;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Service;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Manifest mode from files to a {@link SourceSnapshot}, one reload at a time, remembering what
 * "the last good state keeps serving" needs:
 * <ul>
 *   <li>each file's last parse: a file that stops parsing keeps contributing the objects it
 *       held then, until it is deleted;</li>
 *   <li>each object's last accepted version: an object whose new version is rejected (a bad
 *       field, or an explicit ClusterIP or NodePort that cannot be had) keeps serving that
 *       version, until it is no longer in any file;</li>
 *   <li>the allocations, so that every service keeps its ClusterIP and NodePorts.</li>
 * </ul>
 * Steps of a reload: list the files and read those whose {@link FileState} changed since their
 * last parse ({@link ManifestReader}; the others' parses are reused), put back last good
 * versions, allocate ({@link ServiceAllocator}), derive endpoints ({@link EndpointsController}),
 * compile ({@link ServicePortCompiler}), name ({@link ServiceNames}), count changes; once the
 * snapshot is handed on, {@link #storePending} writes the allocations. Never throws. Not
 * thread-safe: the {@link ManifestSource} serialises calls.
 */
final class ManifestPipeline {
    /** The steps of a reload, in order, as {@link #lastStageNs} times them. */
    enum Stage { READ, MERGE, LAST_GOOD, ALLOCATE, ENDPOINTS, COMPILE, NAMES, REMEMBER, SNAPSHOT }

    private final List<Path> paths;
    private final NodeConfig config;
    private final AllocationStore store;
    private final ServiceAllocator allocator;
    /** Whether each file (by instance) rejected an object whose name is known, so that an unchanged file is not scanned again. */
    private Map<ManifestFile, Boolean> rejectingFiles = new IdentityHashMap<>();
    /** Kept across reloads: it merges again only the files that changed. */
    private final FileMerge merger = new FileMerge();
    /** Kept across reloads: it matches again only the slices and services that changed. */
    private final EndpointsController.Incremental endpointsController = new EndpointsController.Incremental();
    /** Kept across reloads: it reuses what it compiled for the services that did not change. */
    private final ServicePortCompiler compiler;
    /** Kept across reloads: it names again only the services that changed. */
    private final ServiceNames.Incremental namer = new ServiceNames.Incremental();
    /** False when nothing reads the names (no DNS server): then none are made, and snapshots carry {@link ServiceNames#EMPTY}. */
    private boolean nameServices = true;
    private final Map<String, ManifestFile> lastParsed = new HashMap<>();
    /** Each file's state when it was last parsed: an unchanged file is not read again. */
    private final Map<String, FileState> parsedState = new HashMap<>();
    /** What the last reload accepted: the last good versions, built from it when first needed. */
    private Accepted lastAccepted;
    /** Each object's last good version by identity, from {@link #lastAccepted}; null until asked for. */
    private Map<String, KubeObject> lastGood;
    private Allocations stored;
    /** The last reload's allocations, until {@link #storePending} writes them; null when written. */
    private Allocations pendingAllocations;
    private ManifestError storeReadError;
    /** Why the last write of the allocations failed; null once one succeeds. */
    private ManifestError lastStoreError;
    private long storeWriteErrors;
    private SourceSnapshot previous;
    /** How long each stage of the last reload took: what a benchmark of reload latency reads. */
    private final long[] lastStageNs = new long[Stage.values().length];
    private DocumentCache documentCache;
    /** Whether the cache has been rid of the files no longer listed (once, after the first listing). */
    private boolean documentCachePruned;

    /** @param store where allocations survive restarts (read now, written after each change), or null to keep them in memory only */
    ManifestPipeline(final List<Path> paths, final NodeConfig config, final AllocationStore store) {
        this(paths, config, store, true);
    }

    /** @param write false to read {@code store}'s allocations but never write them back (a one-shot look at the files) */
    ManifestPipeline(final List<Path> paths, final NodeConfig config, final AllocationStore store, final boolean write) {
        this.paths = List.copyOf(paths);
        this.config = config;
        this.store = write ? store : null;
        Allocations remembered = Allocations.NONE;
        if (store != null) {
            try {
                remembered = store.load();
            } catch (final IOException e) {
                storeReadError = new ManifestError(store.file().toString(), null, null,
                    "cannot read the stored allocations (" + e.getMessage() + "); allocating afresh");
            }
        }
        this.stored = remembered;
        this.allocator = new ServiceAllocator(config, remembered);
        this.compiler = new ServicePortCompiler(config);
    }

    /** Where large files' parsed documents are kept for the next start (null: nowhere); before the first reload. */
    ManifestPipeline documentCache(final DocumentCache cache) {
        this.documentCache = cache;
        return this;
    }

    /** Whether snapshots carry the services' DNS names; before the first reload. */
    ManifestPipeline nameServices(final boolean wanted) {
        this.nameServices = wanted;
        return this;
    }

    /** The last snapshot produced, or null before the first reload. */
    SourceSnapshot previous() {
        return previous;
    }

    /** How long {@code stage} took in the last reload that got that far, in nanoseconds. */
    long lastStageNs(final Stage stage) {
        return lastStageNs[stage.ordinal()];
    }

    /** "read 2.1 merge 0.3 ... snapshot 0.6": the last reload's stages in ms, as the start-up log and the harnesses give them. */
    String describeLastStages() {
        final StringBuilder line = new StringBuilder();
        for (final Stage stage : Stage.values()) {
            line.append(line.isEmpty() ? "" : " ").append(stage.name().toLowerCase(java.util.Locale.ROOT)).append(' ')
                .append(String.format(java.util.Locale.ROOT, "%.1f", lastStageNs(stage) / 1e6));
        }
        return line.toString();
    }

    /** Records {@code stage} as ending now, having started at {@code startNs}; returns now, the next stage's start. */
    private long timed(final Stage stage, final long startNs) {
        final long now = System.nanoTime();
        lastStageNs[stage.ordinal()] = now - startNs;
        return now;
    }

    /**
     * Reads the files and computes the new state. The result becomes the baseline for the next
     * change counts; when it {@link SourceSnapshot#differsFrom differs} from the previous one its
     * generation is one higher, otherwise it repeats the previous generation with no changes.
     */
    SourceSnapshot reload(final long changedAtMs) {
        SourceSnapshot next;
        try {
            next = compute(changedAtMs);
        } catch (final RuntimeException e) {
            // A bug, not a bad manifest: keep serving what we had and say so.
            final List<ManifestError> errors = new ArrayList<>(previous == null ? List.of() : previous.errors());
            errors.add(new ManifestError(String.valueOf(paths), null, null, "internal error while reloading (" + e
                + "); the previous state keeps serving"));
            next = snapshot(previous == null ? List.of() : previous.servicePorts(),
                previous == null ? ServiceNames.EMPTY : previous.names(), errors, changedAtMs);
        }
        previous = next;
        return next;
    }

    private SourceSnapshot compute(final long changedAtMs) {
        long stageStartNs = System.nanoTime();
        final List<ManifestFile> files = new ArrayList<>();
        final Set<String> present = new HashSet<>();
        final List<ManifestError> listingErrors = new ArrayList<>();
        final List<Path> listed = new ArrayList<>();
        for (final Path configured : paths) {
            final ManifestReader.Listing listing = ManifestReader.listFiles(List.of(configured));
            final List<ManifestFile> kept = listing.errors().isEmpty() ? List.of() : lastParsedUnder(configured);
            if (kept.isEmpty()) {
                listingErrors.addAll(listing.errors());
                listed.addAll(listing.files());
                continue;
            }
            // A manifest directory (or file) that went away, or cannot be listed: what it held
            // keeps serving until it is back, as a file that stops parsing does.
            for (final ManifestError error : listing.errors()) {
                listingErrors.add(new ManifestError(error.file(), error.object(), error.field(), error.problem()
                    + "; the last good state of its " + kept.size() + " file(s) keeps serving"));
            }
            for (final ManifestFile file : kept) {
                present.add(file.file());
                files.add(file);
            }
        }
        for (final Path path : listed) {
            final FileState state = FileState.of(path);
            final ManifestFile unchanged = lastParsed.get(path.toString());
            if (unchanged != null && state.readable() && state.equals(parsedState.get(path.toString()))) {
                present.add(unchanged.file());
                files.add(unchanged);
                continue;
            }
            final ManifestFile read = ManifestReader.readFile(path, documentCache);
            present.add(read.file());
            if (read.unreadable() == null) {
                lastParsed.put(read.file(), read);
                parsedState.put(read.file(), state);
                files.add(read);
            } else {
                parsedState.remove(read.file()); // read again next time, whatever its state
                final ManifestFile last = lastParsed.get(read.file());
                files.add(last == null ? read : new ManifestFile(read.file(), last.entries(), read.unreadable()));
            }
        }
        lastParsed.keySet().retainAll(present);
        parsedState.keySet().retainAll(present);
        if (documentCache != null && !documentCachePruned && listingErrors.isEmpty()) {
            documentCache.retainOnly(Set.copyOf(listed));
            documentCachePruned = true;
        }

        stageStartNs = timed(Stage.READ, stageStartNs);

        final List<ManifestFile> withLastGood = withLastGoodVersions(files);
        stageStartNs = timed(Stage.LAST_GOOD, stageStartNs);
        final ManifestSet manifests = merger.merge(listingErrors, withLastGood);
        stageStartNs = timed(Stage.MERGE, stageStartNs);
        final ServiceAllocator.Result allocated = allocator.allocate(manifests.services(),
            identity -> lastGood().get(identity) instanceof Service service ? service : null);
        stageStartNs = timed(Stage.ALLOCATE, stageStartNs);
        final List<List<EndpointSlice>> slices = endpointsController.slicesOf(allocated.services(), manifests);
        stageStartNs = timed(Stage.ENDPOINTS, stageStartNs);
        final CompiledServices compiled = compiler.compile(allocated.services(), slices);
        stageStartNs = timed(Stage.COMPILE, stageStartNs);
        final ServiceNames names = nameServices ? namer.of(allocated.services(), slices, compiled.ports()) : ServiceNames.EMPTY;

        final List<ManifestError> errors = new ArrayList<>();
        if (storeReadError != null) {
            errors.add(storeReadError);
        }
        errors.addAll(manifests.errors());
        errors.addAll(allocated.errors());
        errors.addAll(compiled.errors());
        // written by storePending once this state is handed on: an fsync must not delay serving
        pendingAllocations = allocated.allocations();
        if (lastStoreError != null) {
            errors.add(lastStoreError); // until a write succeeds
        }
        stageStartNs = timed(Stage.NAMES, stageStartNs);

        rememberLastGood(manifests, allocated, compiled.ports());
        stageStartNs = timed(Stage.REMEMBER, stageStartNs);
        final SourceSnapshot snapshot = snapshot(compiled.ports(), names, errors, changedAtMs);
        timed(Stage.SNAPSHOT, stageStartNs);
        return snapshot;
    }

    /** The last parses of the files {@code configured} held (the file itself, or a directory's files), in name order. */
    private List<ManifestFile> lastParsedUnder(final Path configured) {
        final String self = configured.toString();
        return lastParsed.values().stream()
            .filter(f -> f.file().equals(self) || self.equals(String.valueOf(Path.of(f.file()).getParent())))
            .sorted(java.util.Comparator.comparing(ManifestFile::file))
            .toList();
    }

    /** Rejected objects not validly defined elsewhere come back as their last good versions, with a note on their error. */
    private List<ManifestFile> withLastGoodVersions(final List<ManifestFile> files) {
        final Map<ManifestFile, Boolean> rejecting = new IdentityHashMap<>(files.size());
        for (final ManifestFile file : files) {
            final Boolean known = rejectingFiles.get(file);
            rejecting.put(file, known != null ? known
                : file.entries().stream().anyMatch(e -> e instanceof ManifestFile.Rejected r && r.ref() != null));
        }
        rejectingFiles = rejecting;
        if (!rejecting.containsValue(true)) {
            return files; // nothing rejected: nothing to put back
        }
        final Set<String> valid = new HashSet<>();
        for (final ManifestFile file : files) {
            for (final ManifestFile.Entry entry : file.entries()) {
                if (entry instanceof ManifestFile.Accepted accepted) {
                    valid.add(accepted.object().identity());
                }
            }
        }
        final List<ManifestFile> result = new ArrayList<>(files.size());
        for (final ManifestFile file : files) {
            final List<ManifestFile.Entry> entries = new ArrayList<>(file.entries().size());
            for (final ManifestFile.Entry entry : file.entries()) {
                if (entry instanceof ManifestFile.Rejected rejected && rejected.ref() != null) {
                    final String identity = rejected.ref().describe();
                    final KubeObject last = lastGood().get(identity);
                    if (last != null && valid.add(identity)) {
                        entries.add(new ManifestFile.Accepted(last));
                        final ManifestError error = rejected.error();
                        entries.add(new ManifestFile.Rejected(rejected.ref(), new ManifestError(error.file(), error.object(),
                            error.field(), error.problem() + "; " + lastGoodNote(last.ref(), file.file()))));
                        continue;
                    }
                }
                entries.add(entry);
            }
            result.add(new ManifestFile(file.file(), entries, file.unreadable()));
        }
        return result;
    }

    private static String lastGoodNote(final ObjectRef last, final String file) {
        return last.file().equals(file) ? "its last good version keeps serving"
            : "its last good version (from " + last.file() + ") keeps serving";
    }

    /**
     * What made it into a state: the objects read (services as read, before allocation) and the
     * ports served, from which {@link #lastGood()} picks each object's last good version.
     */
    private record Accepted(ManifestSet manifests, List<Service> services, List<ServicePortSpec> ports) {
    }

    /**
     * Kept for the next reload. Only a rejected object needs its last good version, so the map is
     * built when one is first asked for, not at every reload (at 10,000 services that is
     * measurable on a one-service change).
     */
    private void rememberLastGood(final ManifestSet manifests, final ServiceAllocator.Result allocated,
                                  final List<ServicePortSpec> ports) {
        lastAccepted = new Accepted(manifests, allocated.accepted(), ports);
        lastGood = null;
    }

    /** Every object that made it into the last state, by identity: services that were served (or have no data path), and the rest. */
    private Map<String, KubeObject> lastGood() {
        if (lastGood != null) {
            return lastGood;
        }
        final Map<String, KubeObject> good = new HashMap<>();
        if (lastAccepted != null) {
            final Set<String> served = new HashSet<>();
            for (final ServicePortSpec port : lastAccepted.ports()) {
                served.add(port.namespace() + "/" + port.name());
            }
            for (final Service service : lastAccepted.services()) {
                if (!service.hasDataPath() || served.contains(service.ref().key())) {
                    good.put(service.identity(), service);
                }
            }
            final ManifestSet manifests = lastAccepted.manifests();
            manifests.endpointSlices().forEach(o -> good.put(o.identity(), o));
            manifests.endpoints().forEach(o -> good.put(o.identity(), o));
            manifests.pods().forEach(o -> good.put(o.identity(), o));
        }
        lastGood = good;
        return good;
    }

    /** A reload whose allocations are written before it is returned: for a state nothing serves yet (the agent's first load). */
    SourceSnapshot reloadAndStore(final long changedAtMs) {
        reload(changedAtMs);
        return storePending();
    }

    /**
     * Writes the allocations of the last reload when they changed, after its snapshot was handed
     * on: the write (a whole file and an fsync, several milliseconds at 10,000 services) then
     * does not delay serving. The trade-off: an agent killed between the two restarts without
     * the newest allocations, and allocates those services again from the same hash of their
     * names, so they get the same addresses unless another claimed them in between.
     *
     * @return the snapshot to hand on next: the last one when nothing needed saying, else one
     *         that adds the write's failure (or drops the failure a successful write ended)
     *         and counts it in {@link SourceSnapshot#stateWriteErrors()}
     */
    SourceSnapshot storePending() {
        final Allocations allocations = pendingAllocations;
        pendingAllocations = null;
        if (store == null || allocations == null || allocations.equals(stored) || previous == null) {
            return previous;
        }
        final List<ManifestError> errors = new ArrayList<>(previous.errors());
        try {
            store.store(allocations);
            stored = allocations;
            storeReadError = null; // said in the snapshot handed on; the next one goes without it
            if (lastStoreError == null) {
                return previous;
            }
            errors.remove(lastStoreError);
            lastStoreError = null;
        } catch (final IOException e) {
            storeWriteErrors++;
            errors.remove(lastStoreError);
            lastStoreError = new ManifestError(store.file().toString(), null, null, "cannot store the allocations (" + e
                + "); they hold until the agent restarts");
            errors.add(lastStoreError);
        }
        previous = snapshot(previous.servicePorts(), previous.names(), errors, previous.changedAtMs());
        return previous;
    }

    private SourceSnapshot snapshot(final List<ServicePortSpec> ports, final ServiceNames names, final List<ManifestError> errors,
                                    final long changedAtMs) {
        final List<ServicePortSpec> before = previous == null ? List.of() : previous.servicePorts();
        final int[] changes = ChangeCounter.count(before, ports);
        final Set<ManifestError> known = new LinkedHashSet<>(previous == null ? List.of() : previous.errors());
        final List<ManifestError> fresh = errors.stream().filter(e -> !known.contains(e)).toList();
        final SourceSnapshot candidate = new SourceSnapshot(previous == null ? 1 : previous.generation(), ports, errors, fresh,
            changes[0], changes[1], changedAtMs, storeWriteErrors, names);
        if (previous != null && candidate.differsFrom(previous)) {
            return new SourceSnapshot(previous.generation() + 1, ports, errors, fresh, changes[0], changes[1], changedAtMs,
                storeWriteErrors, names);
        }
        return candidate;
    }
}
