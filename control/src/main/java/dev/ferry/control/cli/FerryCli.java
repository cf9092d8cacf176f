package dev.ferry.control.cli;

/** Entry point of the {@code ferry} command. */
public final class FerryCli {
    private FerryCli() {
    }

    public static void main(final String[] args) {
        System.out.println("ferry");
    }
}
