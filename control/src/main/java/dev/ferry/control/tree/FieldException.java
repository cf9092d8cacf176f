package dev.ferry.control.tree;

/**
 * A value in a YAML or JSON document that is missing, of the wrong type or out of range. It
 * carries the field's path ("spec.ports[0].port") apart from the message so that callers can
 * prefix the file and the object the field belongs to.
 */
public final class FieldException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String path;
    private final String problem;

    public FieldException(final String path, final String problem) {
        super(path.isEmpty() ? problem : path + ": " + problem);
        this.path = path;
        this.problem = problem;
    }

    /** The field's path, "" for the document itself. */
    public String path() {
        return path;
    }

    /** What is wrong, without the path. */
    public String problem() {
        return problem;
    }
}
