package dev.ferry.nativeio.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Compiles and runs a tiny C program with gcc that prints C expressions such as
 * {@code sizeof(struct ifreq)} or {@code offsetof(struct ifreq, ifr_flags)}: the kernel's real
 * struct layouts, to compare with the {@code MemoryLayout}s. Only tests do this; the build stays
 * pure Java.
 */
public final class CProbe {
    private final List<String> headers = new ArrayList<>();
    private final Map<String, Long> expected = new LinkedHashMap<>();

    public CProbe include(String... hs) {
        headers.addAll(List.of(hs));
        return this;
    }

    /** Expects C expression {@code cExpr} to equal {@code javaValue}. */
    public CProbe expect(String cExpr, long javaValue) {
        expected.put(cExpr, javaValue);
        return this;
    }

    /** Runs the probe; returns the mismatches as lines "expr: C=x Java=y" (empty: all match). */
    public List<String> mismatches() throws IOException, InterruptedException {
        Privileged.requireTool("gcc", "gcc");
        Path dir = Files.createTempDirectory("ferry-cprobe");
        try {
            StringBuilder src = new StringBuilder("#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n");
            for (String h : headers) {
                src.append("#include <").append(h).append(">\n");
            }
            src.append("int main(void) {\n");
            for (String e : expected.keySet()) {
                src.append("  printf(\"%zu\\n\", (size_t)(").append(e).append("));\n");
            }
            src.append("  return 0;\n}\n");
            Path c = dir.resolve("probe.c");
            Path exe = dir.resolve("probe");
            Files.writeString(c, src);
            String compile = exec(List.of("gcc", "-o", exe.toString(), c.toString()));
            String[] lines = exec(List.of(exe.toString())).trim().split("\n");
            List<String> bad = new ArrayList<>();
            int i = 0;
            for (Map.Entry<String, Long> e : expected.entrySet()) {
                long cValue = Long.parseLong(lines[i++].trim());
                if (cValue != e.getValue()) {
                    bad.add(e.getKey() + ": C=" + cValue + " Java=" + e.getValue());
                }
            }
            if (!compile.isBlank() && !bad.isEmpty()) {
                bad.add("gcc said: " + compile);
            }
            return bad;
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static String exec(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}
