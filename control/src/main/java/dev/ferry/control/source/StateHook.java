package dev.ferry.control.source;

import dev.ferry.control.health.SyncTracker;

/**
 * Follows every desired state beside the sync loop, such as the listeners that answer load
 * balancers' health checks on each healthCheckNodePort.
 */
public interface StateHook extends AutoCloseable {
    /** Called once before the first state: the agent's health, which some answers include. */
    default void health(final SyncTracker tracker) {
    }

    /** Each desired state, on the source's thread (the first on the starting thread). Must not throw. */
    void accept(DesiredState state);

    @Override
    void close();
}
