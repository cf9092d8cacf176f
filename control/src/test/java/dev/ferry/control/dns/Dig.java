package dev.ferry.control.dns;

import dev.ferry.control.testing.Shell;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code dig} from bind9-dnsutils as the tests' resolver client: a real implementation of the
 * protocol, not ours, so a test passes only when a standard client reads the answer the same
 * way. Missing dig fails the test with what to install (tests never skip).
 */
final class Dig {
    private static final Pattern STATUS = Pattern.compile("status: ([A-Z]+)");
    private static final Pattern FLAGS = Pattern.compile(";; flags: ([a-z ]*);");

    private Dig() {
    }

    /**
     * One answer as dig prints it.
     *
     * @param status     NOERROR, NXDOMAIN, ...
     * @param flags      the header's flags ("qr aa rd", ...)
     * @param answers    the answer section, each record "name ttl class type data" with single spaces
     * @param authority  the authority section
     * @param additional the additional section (without the OPT pseudo-record, which dig prints elsewhere)
     */
    record Answer(String status, String flags, List<String> answers, List<String> authority, List<String> additional) {
        /** The data of the answers (the last field(s) after the type), in order. */
        List<String> data() {
            final List<String> out = new ArrayList<>();
            for (final String record : answers) {
                final String[] fields = record.split(" ", 5);
                out.add(fields.length == 5 ? fields[4] : "");
            }
            return out;
        }
    }

    /** dig @server -p port [+tcp] name type, one try, two seconds. */
    static Answer query(final InetSocketAddress server, final boolean tcp, final String name, final String type, final String... extra) {
        requireDig();
        final List<String> command = new ArrayList<>(List.of("dig", "@" + server.getAddress().getHostAddress(), "-p",
            Integer.toString(server.getPort()), "+tries=1", "+time=3", "+nocookie"));
        if (tcp) {
            command.add("+tcp");
        }
        command.addAll(List.of(extra));
        command.addAll(List.of(name, type));
        final Shell.Result result = Shell.tryRun(command.toArray(String[]::new));
        if (result.exitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + result.exitCode() + ":\n" + result.stdout() + result.stderr());
        }
        return parse(result.stdout());
    }

    static Answer parse(final String output) {
        final Matcher status = STATUS.matcher(output);
        final Matcher flags = FLAGS.matcher(output);
        final List<String> answers = new ArrayList<>();
        final List<String> authority = new ArrayList<>();
        final List<String> additional = new ArrayList<>();
        List<String> section = null;
        for (final String line : output.split("\n")) {
            if (line.startsWith(";; ANSWER SECTION:")) {
                section = answers;
            } else if (line.startsWith(";; AUTHORITY SECTION:")) {
                section = authority;
            } else if (line.startsWith(";; ADDITIONAL SECTION:")) {
                section = additional;
            } else if (line.isBlank() || line.startsWith(";")) {
                if (line.isBlank()) {
                    section = null;
                }
            } else if (section != null) {
                section.add(line.trim().replaceAll("\\s+", " "));
            }
        }
        return new Answer(status.find() ? status.group(1) : "none", flags.find() ? flags.group(1).trim() : "", answers, authority,
            additional);
    }

    /** Fails, saying what to install, when dig is not on the PATH. */
    static void requireDig() {
        final Shell.Result which = Shell.tryRun("sh", "-c", "command -v dig");
        if (which.exitCode() != 0) {
            throw new AssertionError("dig is not installed: the DNS tests query the server with a real resolver client;"
                + " install it with: apt-get install -y bind9-dnsutils");
        }
    }
}
