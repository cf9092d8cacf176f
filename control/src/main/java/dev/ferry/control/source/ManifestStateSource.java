package dev.ferry.control.source;

import dev.ferry.control.health.SyncTracker;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.manifest.ManifestError;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The agent's desired state from a directory of manifests ({@link ManifestSource}): each
 * snapshot's new errors are logged once, naming file, object and field; the snapshot's
 * service ports go to the agent. Allocations (ClusterIPs, NodePorts) are kept in the state
 * directory so they survive restarts.
 */
public final class ManifestStateSource implements DesiredStateSource {
    private static final Logger LOG = Logger.getLogger(ManifestStateSource.class.getName());

    private final NodeConfig config;
    private final List<Path> paths;
    private final Path allocationFile;
    private final boolean names;
    private final Path documentCacheDir;
    private ManifestSource source;
    private SyncTracker tracker;
    private long stateWriteErrorsSeen;

    /** @param names whether the states carry the services' DNS names (false: no DNS server reads them, none are made) */
    public ManifestStateSource(final NodeConfig config, final List<Path> paths, final Path allocationFile, final boolean names) {
        this(config, paths, allocationFile, names, null);
    }

    /**
     * @param names            whether the states carry the services' DNS names
     * @param documentCacheDir where large files' parsed documents are kept for the next start (null: nowhere)
     */
    public ManifestStateSource(final NodeConfig config, final List<Path> paths, final Path allocationFile, final boolean names,
                               final Path documentCacheDir) {
        this.names = names;
        this.config = config;
        this.paths = List.copyOf(paths);
        this.allocationFile = allocationFile;
        this.documentCacheDir = documentCacheDir;
    }

    @Override
    public void health(final SyncTracker syncTracker) {
        this.tracker = syncTracker;
    }

    @Override
    public void start(final Consumer<DesiredState> listener) {
        final Consumer<SourceSnapshot> forward = snapshot -> {
            logErrors(snapshot.newErrors());
            if (tracker != null && snapshot.stateWriteErrors() > stateWriteErrorsSeen) {
                tracker.stateWritesFailed(snapshot.stateWriteErrors() - stateWriteErrorsSeen);
            }
            stateWriteErrorsSeen = snapshot.stateWriteErrors();
            listener.accept(new DesiredState(snapshot.servicePorts(), snapshot.names(), snapshot.serviceChanges(),
                snapshot.endpointChanges(), List.of()));
        };
        source = new ManifestSource(new ManifestSource.Context()
            .nodeConfig(config)
            .paths(paths)
            .allocationStateFile(allocationFile)
            .listener(forward)
            .names(names)
            .documentCacheDir(documentCacheDir)
            .threadName("ferry-manifests"));
        final long startNs = System.nanoTime();
        final SourceSnapshot first = source.loadNow();
        LOG.info("manifests " + paths + ": " + first.servicePorts().size() + " service ports, " + first.errors().size()
            + " rejected objects, loaded in " + (System.nanoTime() - startNs) / 1_000_000 + " ms (by stage, ms: "
            + source.describeLastStages() + ")");
        forward.accept(first);
        try {
            source.start();
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot watch " + paths + ": " + e.getMessage(), e);
        }
    }

    private static void logErrors(final List<ManifestError> errors) {
        for (final ManifestError error : errors) {
            LOG.warning("rejected: " + error);
        }
    }

    @Override
    public void close() {
        if (source != null) {
            source.close();
        }
    }
}
