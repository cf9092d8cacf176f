package dev.ferry.control.health;

import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.EpochClock;

/**
 * What the agent's sync loop tells the admin endpoints, with kube-proxy's meaning
 * ({@code pkg/proxy/healthcheck/proxier_health.go} and {@code pkg/proxy/metrics}):
 * <ul>
 *   <li>a change that needs a sync is <em>queued</em> ({@link #changeQueued()}, or implicitly
 *       by {@link #servicesChanged} / {@link #endpointsChanged} with a count above zero): the
 *       oldest pending time is kept until a sync succeeds;</li>
 *   <li>a <em>successful sync</em> ({@link #syncSucceeded}) clears it and stamps the last
 *       update; a failed one ({@link #syncFailed}) leaves it pending;</li>
 *   <li>healthy means nothing is pending, or the oldest pending change is younger than
 *       {@code healthzTimeoutMs} (kube-proxy: 2 x the maximum sync interval). {@code /healthz}
 *       additionally needs the node to be eligible; {@code /livez} does not;</li>
 *   <li>a source that cannot reach where its state comes from (the Kubernetes API server) says so
 *       ({@link #sourceUnavailable()}) and keeps the last state serving; {@code /healthz} fails once
 *       it has been unreachable for {@code healthzTimeoutMs}, and recovers when the source says it is
 *       back ({@link #sourceAvailable()}). {@code /livez} ignores it: restarting the agent would not
 *       bring the API server back, and a restarted agent could not load any state without it.</li>
 * </ul>
 * Every endpoints change records its trigger time (when the tracker heard of it); a successful
 * sync observes, per change, the time from trigger to sync as
 * {@code kubeproxy_network_programming_duration_seconds}. Thread-safe: the watcher, the sync
 * loop and the admin server's threads call it; everything is behind one monitor (a few calls
 * per sync, never on the packet path).
 */
public final class SyncTracker {
    /** Endpoints changes whose trigger times are remembered between syncs; beyond, they are counted but not timed. */
    static final int MAX_PENDING_TRIGGERS = 10_000;

    private final EpochClock clock;
    private final long healthzTimeoutMs;

    private final Histogram syncDuration = Histogram.syncDurationBuckets();
    private final Histogram networkProgramming = Histogram.networkProgrammingBuckets();
    private final LongArrayList pendingTriggersMs = new LongArrayList();
    private long oldestPendingMs;
    private long lastUpdatedMs;
    private long lastSyncSucceededMs;
    private long serviceChangesTotal;
    private long endpointChangesTotal;
    private long serviceChangesPending;
    private long endpointChangesPending;
    private long syncsTotal;
    private long syncFailuresTotal;
    private long stateWriteErrorsTotal;
    private volatile boolean nodeEligible = true;
    private long sourceUnavailableSinceMs;

    /**
     * @param clock            epoch milliseconds; the agent's clock (tests pass one they advance)
     * @param healthzTimeoutMs how long a queued change may wait for a sync before health fails
     */
    public SyncTracker(final EpochClock clock, final long healthzTimeoutMs) {
        if (healthzTimeoutMs <= 0) {
            throw new IllegalArgumentException("healthzTimeoutMs must be positive, was " + healthzTimeoutMs);
        }
        this.clock = clock;
        this.healthzTimeoutMs = healthzTimeoutMs;
    }

    /** kube-proxy's default: a queued change may wait two maximum sync intervals. */
    public static long defaultHealthzTimeoutMs(final long maxSyncIntervalMs) {
        return 2 * maxSyncIntervalMs;
    }

    public long healthzTimeoutMs() {
        return healthzTimeoutMs;
    }

    /** kube-proxy's QueuedUpdate: something needs a sync; starts the health timer unless one is pending. */
    public synchronized void changeQueued() {
        if (oldestPendingMs == 0) {
            oldestPendingMs = Math.max(1, clock.time());
        }
    }

    /** {@code count} Services changed (added, updated, deleted) and await a sync. */
    public synchronized void servicesChanged(final int count) {
        if (count <= 0) {
            return;
        }
        serviceChangesTotal += count;
        serviceChangesPending += count;
        changeQueued();
    }

    /** {@code count} Endpoints/EndpointSlice objects changed and await a sync; each is timed until then. */
    public synchronized void endpointsChanged(final int count) {
        if (count <= 0) {
            return;
        }
        endpointChangesTotal += count;
        endpointChangesPending += count;
        final long now = clock.time();
        for (int i = 0; i < count && pendingTriggersMs.size() < MAX_PENDING_TRIGGERS; i++) {
            pendingTriggersMs.addLong(now);
        }
        changeQueued();
    }

    /** kube-proxy's Updated: the new state is live. Records the sync's duration and each pending change's latency. */
    public synchronized void syncSucceeded(final long durationNs) {
        final long now = clock.time();
        syncsTotal++;
        syncDuration.observe(durationNs / 1e9);
        for (int i = 0; i < pendingTriggersMs.size(); i++) {
            networkProgramming.observe(Math.max(0, now - pendingTriggersMs.getLong(i)) / 1e3);
        }
        pendingTriggersMs.clear();
        serviceChangesPending = 0;
        endpointChangesPending = 0;
        oldestPendingMs = 0;
        lastUpdatedMs = now;
        lastSyncSucceededMs = now;
    }

    /** A sync was attempted and did not apply: its duration counts, the changes stay pending. */
    public synchronized void syncFailed(final long durationNs) {
        syncsTotal++;
        syncFailuresTotal++;
        syncDuration.observe(durationNs / 1e9);
    }

    /** kube-proxy's SyncNode: false while the node is being deleted; only {@code /healthz} looks at it. */
    public void nodeEligible(final boolean eligible) {
        this.nodeEligible = eligible;
    }

    /**
     * The source lost contact with where its state comes from; the last state keeps serving. Starts
     * the staleness timer unless it runs already.
     */
    public synchronized void sourceUnavailable() {
        if (sourceUnavailableSinceMs == 0) {
            sourceUnavailableSinceMs = Math.max(1, clock.time());
        }
    }

    /** The source is in contact again (and has caught up, or is about to). */
    public synchronized void sourceAvailable() {
        sourceUnavailableSinceMs = 0;
    }

    /** {@code count} more writes of the agent's state (the allocations) failed; serving goes on. */
    public synchronized void stateWritesFailed(final long count) {
        stateWriteErrorsTotal += count;
    }

    /** The health verdict now. */
    public synchronized Health health() {
        final long now = clock.time();
        final boolean healthy = oldestPendingMs == 0 || now - oldestPendingMs < healthzTimeoutMs;
        final boolean sourceFresh = sourceUnavailableSinceMs == 0 || now - sourceUnavailableSinceMs < healthzTimeoutMs;
        return new Health(healthy, nodeEligible, sourceFresh, lastUpdatedMs, now, oldestPendingMs, sourceUnavailableSinceMs);
    }

    /** A consistent copy of everything {@code /metrics} shows. */
    public synchronized Snapshot snapshot() {
        return new Snapshot(syncDuration.copy(), networkProgramming.copy(), lastSyncSucceededMs, serviceChangesTotal,
            endpointChangesTotal, serviceChangesPending, endpointChangesPending, syncsTotal, syncFailuresTotal, stateWriteErrorsTotal);
    }

    /**
     * The health verdict at one instant.
     *
     * @param healthy                  nothing pending, or the oldest pending change is younger than the timeout
     * @param nodeEligible             the node is not being deleted
     * @param sourceFresh              the source is in contact, or has not been out of it for the timeout yet
     * @param lastUpdatedMs            last successful sync, epoch ms; 0 = never
     * @param currentTimeMs            when the verdict was taken
     * @param oldestPendingMs          oldest change not yet synced, epoch ms; 0 = none
     * @param sourceUnavailableSinceMs since when the source has been out of contact, epoch ms; 0 = it is in contact
     */
    public record Health(boolean healthy, boolean nodeEligible, boolean sourceFresh, long lastUpdatedMs, long currentTimeMs,
                         long oldestPendingMs, long sourceUnavailableSinceMs) {
        /**
         * {@code /healthz}: healthy, the node eligible and the source's state fresh enough.
         * {@code /livez} uses {@link #healthy()} alone.
         */
        public boolean healthz() {
            return healthy && nodeEligible && sourceFresh;
        }
    }

    /**
     * Sync metrics at one instant.
     *
     * @param lastSyncSucceededMs epoch ms of the last successful sync; 0 = never
     */
    public record Snapshot(
        Histogram syncDuration,
        Histogram networkProgramming,
        long lastSyncSucceededMs,
        long serviceChangesTotal,
        long endpointChangesTotal,
        long serviceChangesPending,
        long endpointChangesPending,
        long syncsTotal,
        long syncFailuresTotal,
        long stateWriteErrorsTotal) {
    }
}
