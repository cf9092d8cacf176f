package dev.ferry.control.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command for a test fixture (namespace plumbing with iproute2), failing loudly. */
public final class Shell {
    private Shell() {
    }

    /** Runs {@code command}; returns stdout; throws with stderr when it exits non-zero. */
    public static String run(final String... command) {
        final Result r = tryRun(command);
        if (r.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + r.exitCode() + ": " + r.stderr());
        }
        return r.stdout();
    }

    /** Runs {@code command} and returns what happened, whatever the exit code. */
    public static Result tryRun(final String... command) {
        try {
            final Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
            final byte[] out = p.getInputStream().readAllBytes();
            final byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (final IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code ip netns exec NS command...} */
    public static String inNs(final String ns, final String... command) {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        return run(full.toArray(String[]::new));
    }

    public record Result(int exitCode, String stdout, String stderr) {
    }
}
