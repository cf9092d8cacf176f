package dev.ferry.control.source;

import dev.ferry.control.health.SyncTracker;

/** What the agent needs from a source of Services and Endpoints. */
public interface DesiredStateSource extends AutoCloseable {
    /** Delivers the current state at once (on the calling thread) and every change after, on the source's thread. */
    void start(java.util.function.Consumer<DesiredState> listener);

    /**
     * Called once before {@link #start}: the agent's health, for a source that can tell when its
     * state goes stale (the API server is out of reach) or the node stops being eligible.
     */
    default void health(final SyncTracker tracker) {
    }

    /** Stops delivering and releases what the source holds; throws nothing checked (the agent's close goes on). */
    @Override
    void close();
}
