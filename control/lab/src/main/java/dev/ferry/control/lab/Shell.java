package dev.ferry.control.lab;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs the lab's external commands ({@code ip}, the provisioning scripts, curl) and turns a
 * failure into a {@link LabException} that quotes the command and its output. Also names a
 * missing tool with the Debian package that installs it.
 */
public final class Shell {
    /** Tools the lab runs, with the Debian package that provides each. */
    public static final Map<String, String> PACKAGES = Map.of(
        "ip", "iproute2", "curl", "curl", "setsid", "util-linux", "bash", "bash", "vagrant", "vagrant");
    private static final long DEFAULT_TIMEOUT_MS = 60_000;

    /** What a finished command printed (stdout and stderr together) and its exit code. */
    public record Result(int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    private Shell() {
    }

    /** Runs {@code command}; throws naming it when it fails. Returns its output. */
    public static String run(final List<String> command) {
        final Result result = exec(command, DEFAULT_TIMEOUT_MS);
        if (!result.ok()) {
            throw new LabException("'" + String.join(" ", command) + "' exited " + result.exitCode() + ": " + result.output().strip());
        }
        return result.output();
    }

    public static String run(final String... command) {
        return run(List.of(command));
    }

    /** Runs {@code command} and returns how it ended, failure included. */
    public static Result exec(final List<String> command, final long timeoutMs) {
        try {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            final byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new LabException("'" + String.join(" ", command) + "' did not finish within " + timeoutMs + " ms");
            }
            return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (final IOException e) {
            throw new LabException("cannot run '" + String.join(" ", command) + "': " + e.getMessage(), e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted while running '" + String.join(" ", command) + "'", e);
        }
    }

    /** {@code ip ARGS...} */
    public static String ip(final String... args) {
        final List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        return run(command);
    }

    /** The executable {@code tool} on the PATH (plus /usr/sbin and /sbin), if any. */
    public static Optional<String> which(final String tool) {
        final String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (final String dir : path.split(File.pathSeparator)) {
            final File file = new File(dir, tool);
            if (file.canExecute() && file.isFile()) {
                return Optional.of(file.getPath());
            }
        }
        return Optional.empty();
    }

    /** Throws naming every missing tool and the command that installs it. */
    public static void requireTools(final String... tools) {
        final List<String> missing = new ArrayList<>();
        for (final String tool : tools) {
            if (which(tool).isEmpty()) {
                missing.add(tool);
            }
        }
        if (!missing.isEmpty()) {
            final List<String> packages = missing.stream().map(t -> PACKAGES.getOrDefault(t, t)).distinct().toList();
            throw new LabException("missing tool" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                + ": install with 'apt-get install " + String.join(" ", packages) + "'");
        }
    }

    /** Throws unless this process runs as root (the lab creates network namespaces). */
    public static void requireRoot(final String what) {
        if (!"root".equals(System.getProperty("user.name")) && !isUid0()) {
            throw new LabException(what + " needs root (it creates network namespaces): run with sudo");
        }
    }

    private static boolean isUid0() {
        try {
            for (final String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return "0".equals(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (final IOException e) {
            return false;
        }
        return false;
    }
}
