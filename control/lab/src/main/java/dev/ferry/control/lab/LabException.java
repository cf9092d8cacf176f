package dev.ferry.control.lab;

/** A lab step that failed: the message says what, where, and what to do about it. */
public final class LabException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LabException(final String message) {
        super(message);
    }

    public LabException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
