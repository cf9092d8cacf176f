package dev.ferry.conntrack;

/**
 * Control-side callback for {@link ConntrackTable#forEach(EntryVisitor)}: receives the
 * original-direction handle of each live entry. The visitor may read the entry through the
 * table's accessors and may {@link ConntrackTable#delete(long) delete} it; it cannot stop the
 * walk early (a walk is bounded by the capacity anyway).
 */
@FunctionalInterface
public interface EntryVisitor {
    /**
     * Called once per live entry seen by the walk.
     *
     * @param handle original-direction handle of the entry.
     */
    void visit(long handle);
}
