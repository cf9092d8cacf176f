package dev.ferry.dataplane.counters;

import dev.ferry.dataplane.packet.DropReason;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * One queue's counters. Only that queue's thread increments them (release stores, no atomic
 * read-modify-write), so incrementing costs a plain add and a store.
 */
public final class WorkerCounters {
    private final AtomicCounter[] byType;
    private final AtomicCounter[] byDropReason;

    WorkerCounters(final CountersManager manager, final String agent) {
        final CounterType[] types = CounterType.values();
        byType = new AtomicCounter[types.length];
        for (final CounterType type : types) {
            byType[type.ordinal()] = manager.newCounter(agent + ": " + type.description(), type.typeId());
        }
        final DropReason[] reasons = DropReason.values();
        byDropReason = new AtomicCounter[reasons.length];
        for (final DropReason reason : reasons) {
            byDropReason[reason.ordinal()] = manager.newCounter(
                agent + ": dropped: " + reason.description(), CounterType.dropTypeId(reason));
        }
    }

    public void increment(final CounterType type) {
        byType[type.ordinal()].incrementRelease();
    }

    public void add(final CounterType type, final long delta) {
        byType[type.ordinal()].getAndAddRelease(delta);
    }

    public void drop(final DropReason reason) {
        byDropReason[reason.ordinal()].incrementRelease();
    }

    public void drop(final DropReason reason, final long count) {
        byDropReason[reason.ordinal()].getAndAddRelease(count);
    }

    public long get(final CounterType type) {
        return byType[type.ordinal()].get();
    }

    public long get(final DropReason reason) {
        return byDropReason[reason.ordinal()].get();
    }
}
