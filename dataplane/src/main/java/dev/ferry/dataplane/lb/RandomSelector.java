package dev.ferry.dataplane.lb;

import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.ServicePort;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Uniform random choice, kube-proxy's default. Holds its own generator, so one instance per
 * worker (generators are not thread-safe, and sharing one would contend).
 */
public final class RandomSelector implements BackendSelector {
    private final RandomGenerator random;

    /** With a freshly seeded {@link SplittableRandom}. */
    public RandomSelector() {
        this(new SplittableRandom());
    }

    /** With the given generator (seed it in tests for reproducible picks). */
    public RandomSelector(final RandomGenerator random) {
        if (random == null) {
            throw new IllegalArgumentException("random must not be null");
        }
        this.random = random;
    }

    @Override
    public int select(final ServicePort port, final EndpointSet endpoints, final int clientAddr, final long nowMs) {
        final int size = endpoints.size();
        return size == 1 ? 0 : random.nextInt(size);
    }
}
