package dev.ferry.perf;

import java.util.SplittableRandom;

/**
 * The sequence of flows (or services) a benchmark visits: a precomputed array of uniform random
 * picks, read in order and wrapped, so that picking costs one sequential load and the flow's
 * own data (conntrack entry, index slot, template) is reached in an order no prefetcher can guess.
 * A fixed seed keeps runs comparable.
 */
final class FlowOrder {
    /** 2^20 picks (4 MiB): long enough that every flow of a million-flow table is visited. */
    static final int LENGTH = 1 << 20;
    static final int MASK = LENGTH - 1;
    private static final long SEED = 0x5EED_F00DL;

    private FlowOrder() {
    }

    /** {@link #LENGTH} uniform picks in {@code [0, bound)}. */
    static int[] random(final int bound) {
        final SplittableRandom random = new SplittableRandom(SEED);
        final int[] order = new int[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            order[i] = random.nextInt(bound);
        }
        return order;
    }
}
