package dev.ferry.dataplane.service;

import java.util.Collection;

/**
 * An immutable set of IPv4 addresses over one open-addressing int array, for membership
 * tests on the hot path without boxing. Built once at compile time.
 */
final class AddressSet {
    private final int[] slots;
    private final int mask;
    private final boolean containsZero;

    AddressSet(final Collection<Integer> addresses) {
        final long wanted = Math.max(16L, (long) addresses.size() * 2);
        final int capacity = Integer.highestOneBit((int) Math.min(wanted, 1 << 30) - 1) << 1;
        this.slots = new int[capacity];
        this.mask = capacity - 1;
        boolean zero = false;
        for (final int address : addresses) {
            if (address == 0) {
                zero = true; // 0 marks an empty slot: remembered aside
            } else {
                add(address);
            }
        }
        this.containsZero = zero;
    }

    private void add(final int address) {
        int i = ServiceTable.mix(address) & mask;
        while (slots[i] != 0) {
            if (slots[i] == address) {
                return;
            }
            i = (i + 1) & mask;
        }
        slots[i] = address;
    }

    boolean contains(final int address) {
        if (address == 0) {
            return containsZero;
        }
        int i = ServiceTable.mix(address) & mask;
        while (true) {
            final int a = slots[i];
            if (a == address) {
                return true;
            }
            if (a == 0) {
                return false;
            }
            i = (i + 1) & mask;
        }
    }
}
