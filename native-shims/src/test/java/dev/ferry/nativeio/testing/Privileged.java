package dev.ferry.nativeio.testing;

import static org.junit.jupiter.api.Assertions.fail;

import dev.ferry.nativeio.probe.NativeAccessProbe;
import java.io.File;

/**
 * Gate for privileged tests: they must run (CI runs them as root), so a missing privilege or
 * tool fails the test with a message naming what is missing instead of skipping it.
 */
public final class Privileged {
    private Privileged() {
    }

    /** Fails unless native access and the capabilities for {@code needs} are present. */
    public static void require(NativeAccessProbe.Need... needs) {
        NativeAccessProbe.Availability availability = NativeAccessProbe.check(needs);
        if (!availability.available()) {
            fail("privileged test cannot run: " + availability.describe()
                    + ". Run the tests as root (CI: bash .ci/run as root).");
        }
        requireTool("ip", "iproute2");
    }

    /** Fails unless {@code tool} is on the PATH, naming the Debian package that provides it. */
    public static String requireTool(String tool, String debianPackage) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin") + ":/usr/sbin:/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            File f = new File(dir, tool);
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        fail("test needs '" + tool + "' on the PATH: install the Debian package " + debianPackage);
        return null;
    }
}
