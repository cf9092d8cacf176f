package dev.ferry.control.lab;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.List;

/**
 * What the privileged lab tests share: the gate (they must run, so missing root or a missing
 * tool fails them with what to do, never skips them), and the state directory under target/.
 */
final class LabTestSupport {
    private LabTestSupport() {
    }

    /** Fails unless the test runs as root with ip, setsid and bash on the PATH. */
    static void requirePrivileges() {
        try {
            Shell.requireRoot("the lab tests");
            Shell.requireTools("ip", "setsid", "bash");
        } catch (final LabException e) {
            fail("privileged lab test cannot run: " + e.getMessage() + ". Run the tests as root (CI: bash .ci/run as root).");
        }
    }

    /** A lab whose state lives in target/lab-state/NAME, so logs of a failed run stay for reading. */
    static Lab lab(final String name) {
        return new Lab(new LabState(Path.of("target", "lab-state", name).toAbsolutePath()), LabJava.current(), System.out);
    }

    /** Root namespace addresses, routes and rules: the lab must never change them. */
    static List<String> rootNetworkState() {
        return List.of(Shell.ip("-o", "-4", "addr", "show"), Shell.ip("route", "show", "table", "all"), Shell.ip("rule", "show"));
    }
}
