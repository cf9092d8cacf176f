package dev.ferry.control.model;

import java.util.List;

/**
 * Where a list of objects read from manifests changed between two reloads, lined up by identity
 * from both ends: {@code [start, oldEnd)} of the old list became {@code [start, newEnd)} of the
 * new one, and before and after that span the two lists hold the very same objects, element for
 * element. The objects of a file that did not change are the same instances in the same order,
 * so a change to one file is a short span whatever the number of objects. Finding it compares
 * references only.
 */
public record ChangedSpan(int start, int oldEnd, int newEnd) {
    public static ChangedSpan between(final List<?> old, final List<?> next) {
        int start = 0;
        final int common = Math.min(old.size(), next.size());
        while (start < common && old.get(start) == next.get(start)) {
            start++;
        }
        int oldEnd = old.size();
        int newEnd = next.size();
        while (oldEnd > start && newEnd > start && old.get(oldEnd - 1) == next.get(newEnd - 1)) {
            oldEnd--;
            newEnd--;
        }
        return new ChangedSpan(start, oldEnd, newEnd);
    }

    /** The index in the old list of the new list's element {@code index}, which lies outside the span. */
    public int oldIndex(final int index) {
        return index < start ? index : index - newEnd + oldEnd;
    }
}
