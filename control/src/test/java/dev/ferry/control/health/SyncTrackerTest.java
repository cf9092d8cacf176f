package dev.ferry.control.health;

import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyncTrackerTest {
    private final CachedEpochClock clock = new CachedEpochClock();
    private final SyncTracker tracker = new SyncTracker(clock, 1_000);

    SyncTrackerTest() {
        clock.update(5_000);
    }

    @Test
    void shouldBeHealthyWhileStartingUpWithNothingQueued() {
        clock.advance(1_000_000);
        final SyncTracker.Health health = tracker.health();
        assertTrue(health.healthz());
        assertEquals(0, health.lastUpdatedMs());
    }

    @Test
    void shouldTimeTheOldestPendingChangeNotTheNewest() {
        tracker.servicesChanged(1);
        clock.advance(900);
        tracker.endpointsChanged(1);
        assertTrue(tracker.health().healthy());
        clock.advance(100);
        assertFalse(tracker.health().healthy(), "the first change has waited the whole timeout");
    }

    @Test
    void shouldKeepChangesPendingAfterAFailedSync() {
        tracker.endpointsChanged(2);
        clock.advance(500);
        tracker.syncFailed(1_000_000);
        clock.advance(500);
        assertFalse(tracker.health().healthy());
        final SyncTracker.Snapshot snapshot = tracker.snapshot();
        assertEquals(2, snapshot.endpointChangesPending());
        assertEquals(1, snapshot.syncFailuresTotal());
        assertEquals(1, snapshot.syncDuration().count(), "failed syncs are timed too, as in kube-proxy");
        assertEquals(0, snapshot.lastSyncSucceededMs());
    }

    @Test
    void shouldObserveNetworkProgrammingLatencyPerEndpointsChangeOnSuccess() {
        tracker.endpointsChanged(1);
        clock.advance(2_000);
        tracker.endpointsChanged(1);
        clock.advance(500);
        tracker.syncSucceeded(4_000_000);
        final SyncTracker.Snapshot snapshot = tracker.snapshot();
        assertEquals(2, snapshot.networkProgramming().count());
        assertEquals(3.0, snapshot.networkProgramming().sum(), 1e-9, "2.5 s and 0.5 s");
        assertEquals(7_500, snapshot.lastSyncSucceededMs());
        assertEquals(0, snapshot.endpointChangesPending());
        assertEquals(2, snapshot.endpointChangesTotal());
        assertTrue(tracker.health().healthy());
        assertEquals(7_500, tracker.health().lastUpdatedMs());
    }

    @Test
    void shouldIgnoreZeroChanges() {
        tracker.servicesChanged(0);
        tracker.endpointsChanged(0);
        clock.advance(10_000);
        assertTrue(tracker.health().healthy());
        assertEquals(0, tracker.snapshot().serviceChangesTotal());
    }

    @Test
    void shouldDefaultHealthzTimeoutToTwiceTheMaxSyncInterval() {
        assertEquals(60_000, SyncTracker.defaultHealthzTimeoutMs(30_000));
        assertThrows(IllegalArgumentException.class, () -> new SyncTracker(clock, 0));
    }

    @Test
    void shouldUseKubeProxyBuckets() {
        final Histogram sync = Histogram.syncDurationBuckets();
        assertEquals(15, sync.bucketCount());
        assertEquals(0.001, sync.upperBound(0));
        assertEquals(16.384, sync.upperBound(14), 1e-12);
        final Histogram programming = Histogram.networkProgrammingBuckets();
        assertEquals(0, programming.upperBound(0));
        assertEquals(0.25, programming.upperBound(1));
        assertEquals(300, programming.upperBound(programming.bucketCount() - 1));
    }
}
