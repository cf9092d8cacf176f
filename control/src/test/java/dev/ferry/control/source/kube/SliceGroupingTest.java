package dev.ferry.control.source.kube;

import dev.ferry.control.compile.ServicePortCompiler;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Service;
import dev.ferry.dataplane.addr.Ipv4;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static dev.ferry.control.source.kube.ApiFixtures.plain;
import static dev.ferry.control.source.kube.ApiFixtures.ready;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The kept grouping against a fresh {@link ServicePortCompiler#slicesOf} after every step of
 * random changes as an informer's store makes them: a slice updated in place, added at the end,
 * removed, moved to another service, the store reordered, services replaced, added, removed and
 * reordered, and both kinds changed in one step (a recompute that finds both dirty).
 */
class SliceGroupingTest {
    private static final int SERVICES = 12;

    private static Service service(final int i) {
        return ApiObjects.service(plain("svc-" + i, "10.96.0." + (10 + i), 80));
    }

    private static EndpointSlice slice(final String name, final int owner, final int version) {
        return ApiObjects.slice(ApiFixtures.slice(name, "svc-" + owner, ready("10.244.1." + (version & 0xFF), "node-1")));
    }

    @Test
    void shouldGroupAsAFreshMatchAfterEveryChange() {
        final Random random = new Random(42);
        for (int run = 0; run < 20; run++) {
            final SliceGrouping grouping = new SliceGrouping();
            List<Service> services = new ArrayList<>();
            for (int i = 0; i < SERVICES; i++) {
                services.add(service(i));
            }
            services = List.copyOf(services);
            final List<EndpointSlice> store = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                store.add(slice("s" + i, random.nextInt(SERVICES + 2), i)); // some own no service
            }
            int version = 100;
            for (int step = 0; step < 60; step++) {
                final int what = random.nextInt(14);
                if (what < 5 && !store.isEmpty()) {
                    final int at = random.nextInt(store.size());
                    store.set(at, slice("s-upd" + version, random.nextInt(SERVICES + 2), version));
                } else if (what < 7) {
                    store.add(slice("s-new" + version, random.nextInt(SERVICES + 2), version));
                } else if (what < 8 && !store.isEmpty()) {
                    store.remove(random.nextInt(store.size()));
                } else if (what < 9) {
                    Collections.shuffle(store, random); // a resized map lists its values anew
                } else if (what < 10 && !services.isEmpty()) {
                    final List<Service> next = new ArrayList<>(services);
                    next.set(random.nextInt(next.size()), service(random.nextInt(SERVICES)));
                    services = List.copyOf(next);
                } else if (what < 11) {
                    final List<Service> next = new ArrayList<>(services);
                    next.add(random.nextInt(next.size() + 1), service(random.nextInt(SERVICES + 2))); // some own no slice
                    services = List.copyOf(next);
                } else if (what < 12 && !services.isEmpty()) {
                    final List<Service> next = new ArrayList<>(services);
                    next.remove(random.nextInt(next.size()));
                    services = List.copyOf(next);
                } else if (what < 13) {
                    final List<Service> next = new ArrayList<>(services);
                    Collections.shuffle(next, random);
                    services = List.copyOf(next);
                } else {
                    // both at once: a service replaced and a slice added
                    final List<Service> next = new ArrayList<>(services);
                    next.add(service(random.nextInt(SERVICES)));
                    services = List.copyOf(next);
                    store.add(random.nextInt(store.size() + 1), slice("s-both" + version, random.nextInt(SERVICES + 2), version));
                }
                version++;
                final List<EndpointSlice> slices = List.copyOf(store);
                final List<List<EndpointSlice>> kept = grouping.slicesOf(services, slices);
                final List<List<EndpointSlice>> fresh = ServicePortCompiler.slicesOf(services, slices);
                assertEquals(fresh.size(), kept.size());
                for (int i = 0; i < fresh.size(); i++) {
                    assertEquals(identities(fresh.get(i)), identities(kept.get(i)), "run " + run + " step " + step + " service " + i);
                }
            }
        }
    }

    @Test
    void shouldKeepTheListOfAServiceWhoseSlicesDidNotChange() {
        final SliceGrouping grouping = new SliceGrouping();
        final List<Service> services = List.of(service(0), service(1));
        final List<EndpointSlice> before = List.of(slice("a", 0, 1), slice("b", 1, 2));
        final List<List<EndpointSlice>> first = grouping.slicesOf(services, before);
        final List<List<EndpointSlice>> second = grouping.slicesOf(services, List.of(before.get(0), slice("b", 1, 3)));
        assertSame(first.get(0), second.get(0), "svc-0's slices are untouched: the compiler reuses its specs");
        assertEquals(Ipv4.parse("10.244.1.3"), second.get(1).getFirst().endpoints().getFirst().address(), "svc-1 has the new version");
    }

    private static Set<EndpointSlice> identities(final List<EndpointSlice> slices) {
        final Set<EndpointSlice> set = Collections.newSetFromMap(new IdentityHashMap<>());
        set.addAll(slices);
        assertEquals(slices.size(), set.size(), "each slice once");
        return set;
    }
}
