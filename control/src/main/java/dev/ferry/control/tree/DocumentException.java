package dev.ferry.control.tree;

/**
 * A file that could not be read or parsed as YAML or JSON. The message names the file and,
 * when the parser knows it, the line and column.
 */
public final class DocumentException extends Exception {
    private static final long serialVersionUID = 1L;

    public DocumentException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
