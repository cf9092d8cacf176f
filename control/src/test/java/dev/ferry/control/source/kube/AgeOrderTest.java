package dev.ferry.control.source.kube;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The kept order against sorting the whole store, after every step of random store changes listed in a new order each time. */
class AgeOrderTest {
    private static Service service(final String namespace, final String name, final int second) {
        return new ServiceBuilder().withNewMetadata().withNamespace(namespace).withName(name)
            // some share a second (ties go by namespace and name), some have none
            .withCreationTimestamp(second < 0 ? null : String.format("2026-12-03T10:%02d:%02dZ", second / 60 % 60, second % 60))
            .endMetadata().build();
    }

    @Test
    void shouldOrderAsSortingTheWholeStoreAfterEveryChange() {
        final Random random = new Random(7);
        for (int run = 0; run < 20; run++) {
            final AgeOrder<Service> order = new AgeOrder<>();
            final List<Service> store = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                store.add(service("ns-" + random.nextInt(3), "svc-" + i, random.nextInt(50) - 2));
            }
            int next = 1000;
            for (int step = 0; step < 100; step++) {
                final int what = random.nextInt(10);
                if (what < 4) { // a new Service
                    store.add(service("ns-" + random.nextInt(3), "svc-" + next++, 40 + step));
                } else if (what < 6 && !store.isEmpty()) { // updated: a new instance of the same object
                    final int at = random.nextInt(store.size());
                    final Service old = store.get(at);
                    store.set(at, service(old.getMetadata().getNamespace(), old.getMetadata().getName(),
                        old.getMetadata().getCreationTimestamp() == null ? -1 : 0));
                    store.get(at).getMetadata().setCreationTimestamp(old.getMetadata().getCreationTimestamp());
                } else if (what < 8 && !store.isEmpty()) { // deleted
                    store.remove(random.nextInt(store.size()));
                } else if (what < 9) { // a relist: many new instances at once
                    for (int i = 0; i < store.size(); i += 2) {
                        final Service old = store.get(i);
                        final Service copy = service(old.getMetadata().getNamespace(), old.getMetadata().getName(), 0);
                        copy.getMetadata().setCreationTimestamp(old.getMetadata().getCreationTimestamp());
                        store.set(i, copy);
                    }
                } // else nothing changed
                Collections.shuffle(store, random); // the store lists its values in no stable order
                final List<Service> sorted = new ArrayList<>(store);
                sorted.sort(AgeOrder.OLDEST_FIRST);
                final List<Service> kept = order.of(List.copyOf(store));
                assertEquals(sorted.size(), kept.size(), "run " + run + " step " + step);
                for (int i = 0; i < sorted.size(); i++) {
                    assertSame(sorted.get(i), kept.get(i), "run " + run + " step " + step + " position " + i);
                }
            }
        }
    }
}
