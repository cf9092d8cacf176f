package dev.ferry.control.host;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;

/**
 * Ports folded into as few inclusive ranges as a rule budget allows. Adjacent ports always
 * merge; when more ranges remain than {@code maxRanges}, the ranges separated by the smallest
 * gaps merge until the budget holds, so the ports steered beyond the requested ones are as
 * few as the budget permits.
 */
public final class PortRanges {
    /** An inclusive port range. */
    public record Range(int start, int end) {
        public int size() {
            return end - start + 1;
        }

        @Override
        public String toString() {
            return start == end ? Integer.toString(start) : start + "-" + end;
        }
    }

    private PortRanges() {
    }

    /**
     * @param ports     the ports to cover (bits 1-65535)
     * @param maxRanges the most ranges to return (at least 1)
     * @return ranges covering every port in {@code ports}, in ascending order, at most {@code maxRanges}
     */
    public static List<Range> fold(final BitSet ports, final int maxRanges) {
        if (maxRanges < 1) {
            throw new IllegalArgumentException("maxRanges must be at least 1, was " + maxRanges);
        }
        final List<Range> exact = new ArrayList<>();
        for (int start = ports.nextSetBit(0); start >= 0; ) {
            final int end = ports.nextClearBit(start) - 1;
            exact.add(new Range(start, end));
            start = ports.nextSetBit(end + 1);
        }
        final int merges = exact.size() - maxRanges;
        if (merges <= 0) {
            return List.copyOf(exact);
        }
        // gap i lies between range i and range i+1; close the smallest ones
        final Integer[] gaps = new Integer[exact.size() - 1];
        for (int i = 0; i < gaps.length; i++) {
            gaps[i] = i;
        }
        Arrays.sort(gaps, Comparator.comparingInt((Integer i) -> exact.get(i + 1).start() - exact.get(i).end()).thenComparingInt(i -> i));
        final boolean[] closed = new boolean[gaps.length];
        for (int m = 0; m < merges; m++) {
            closed[gaps[m]] = true;
        }
        final List<Range> out = new ArrayList<>();
        int start = exact.getFirst().start();
        for (int i = 0; i < exact.size(); i++) {
            if (i < closed.length && closed[i]) {
                continue;
            }
            out.add(new Range(start, exact.get(i).end()));
            if (i + 1 < exact.size()) {
                start = exact.get(i + 1).start();
            }
        }
        return List.copyOf(out);
    }

    /** Ports covered by {@code ranges}. */
    public static int covered(final List<Range> ranges) {
        return ranges.stream().mapToInt(Range::size).sum();
    }
}
