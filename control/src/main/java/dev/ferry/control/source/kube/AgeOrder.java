package dev.ferry.control.source.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * An informer store's objects oldest first (then by namespace and name), so that of two
 * services claiming one address the older keeps it, as kube-proxy and the API server decide.
 * Kept across recomputes: the store lists its objects in no stable order, but an unchanged object
 * is the same instance, so the next order is the last one without the instances that left and
 * with the new ones put in their places; a new Service among 10,000 costs two identity sets and
 * a binary search instead of sorting 10,000 by their timestamps' text. Many new objects at once
 * (the first list, a relist) are sorted whole. One thread (the recompute's) uses it.
 */
final class AgeOrder<T extends HasMetadata> {
    /** New objects beyond this many are sorted with the rest rather than put in one by one. */
    private static final int MAX_INSERTS = 64;

    static final Comparator<HasMetadata> OLDEST_FIRST = Comparator
        .comparing((HasMetadata o) -> Objects.toString(o.getMetadata().getCreationTimestamp(), ""))
        .thenComparing(o -> Objects.toString(o.getMetadata().getNamespace(), ""))
        .thenComparing(o -> o.getMetadata().getName());

    private List<T> last;

    /** {@code store}'s objects oldest first; equal, element for element, to sorting it with {@link #OLDEST_FIRST}. */
    List<T> of(final List<T> store) {
        if (last == null) {
            return remember(sorted(store));
        }
        final Set<T> inLast = identitySet(last);
        final List<T> added = new ArrayList<>();
        for (final T object : store) {
            if (!inLast.contains(object)) {
                added.add(object);
                if (added.size() > MAX_INSERTS) {
                    return remember(sorted(store));
                }
            }
        }
        final List<T> next = new ArrayList<>(store.size());
        if (store.size() - added.size() == last.size()) {
            next.addAll(last); // nothing left: every old object is still in the store
        } else {
            final Set<T> inStore = identitySet(store);
            for (final T object : last) {
                if (inStore.contains(object)) {
                    next.add(object);
                }
            }
        }
        added.sort(OLDEST_FIRST);
        for (final T object : added) {
            final int found = Collections.binarySearch(next, object, OLDEST_FIRST);
            next.add(found >= 0 ? found : -found - 1, object);
        }
        return remember(next);
    }

    /** Forgets the last order (a new set of informers: every instance is new). */
    void reset() {
        last = null;
    }

    private List<T> remember(final List<T> order) {
        last = List.copyOf(order);
        return last;
    }

    private List<T> sorted(final List<T> objects) {
        final List<T> sorted = new ArrayList<>(objects);
        sorted.sort(OLDEST_FIRST);
        return sorted;
    }

    private static <T> Set<T> identitySet(final List<T> objects) {
        final Set<T> set = Collections.newSetFromMap(new IdentityHashMap<>(objects.size() * 2));
        set.addAll(objects);
        return set;
    }
}
