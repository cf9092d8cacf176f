package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.service.ServiceTable;

/**
 * The current service snapshot, swapped in whole by the control side with one volatile write
 * and read by workers once per packet. Workers never see a half-applied change.
 */
public final class ServiceTableHolder {
    private volatile ServiceTable current;

    public ServiceTableHolder(final ServiceTable initial) {
        this.current = initial;
    }

    public ServiceTable get() {
        return current;
    }

    public void set(final ServiceTable next) {
        this.current = next;
    }
}
