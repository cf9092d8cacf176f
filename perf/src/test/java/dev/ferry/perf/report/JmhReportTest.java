package dev.ferry.perf.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JMH report from a small fixture of JMH's JSON: the Markdown table, the targets and real chart files. */
class JmhReportTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final Machine MACHINE = new Machine("Test CPU", 2, 2048, "6.1.0", "Test VM 25");

    @TempDir
    Path dir;

    private static List<JmhResult> fixture() throws IOException {
        try (InputStream in = JmhReportTest.class.getResourceAsStream("jmh-fixture.json")) {
            return JmhResult.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldParseScoresParamsAndAllocationUnderBothMetricNames() throws IOException {
        final List<JmhResult> results = fixture();
        assertEquals(4, results.size());
        final JmhResult copy = results.get(0);
        assertEquals("FastPathBenchmark", copy.className());
        assertEquals("copyOnly", copy.method());
        assertEquals("flows=1000", copy.paramsText());
        assertEquals("ns/op", copy.unit());
        assertTrue(copy.profiledAllocation(), "the pre-1.35 name ·gc.alloc.rate.norm is read too");
        assertTrue(Double.isNaN(copy.scoreError()), "JMH writes \"NaN\" as a string without an error estimate");
        assertEquals(1.25, results.get(1).scoreError());
        assertEquals(1000.0 / results.get(1).score(), results.get(1).millionOpsPerSecond(), 1e-9);
        assertEquals("1 fork, 1 × 1 s warmup, 2 × 1 s measurement, 1 thread", copy.run().describe());
    }

    @Test
    void shouldWriteMarkdownTableTargetsAndChartsFromJmhJson() throws IOException {
        final List<Path> written = JmhReport.write(fixture(), dir, MACHINE, "jmh.json");

        final String md = Files.readString(dir.resolve(JmhReport.MARKDOWN));
        assertTrue(md.contains("Test CPU, 2 cores"), md);
        assertTrue(md.contains("| benchmark | parameters | score | ± error | unit | M ops/s | B/op |"), md);
        assertTrue(md.contains("| original | flows=1000 | 103 | 1.25 | ns/op | 9.72 | < 0.01 |"), md);
        assertTrue(md.contains("| lookup | services=100000 | 10.5 |  | ns/op | 95.7 | < 0.01 |"), md);
        assertTrue(md.contains("| fast path ≥ 10.0 Mpps/core, 0 B/op: original [flows=1000] | 103 ns = 9.72 Mpps"), md);
        assertTrue(md.contains("| lookup flat ≤ 1.20× (lookup, 10 → 100000 services) | 2.19 → 10.5 ns/op = 4.78× | not met |"), md);
        assertTrue(md.contains("![FastPathBenchmark](charts/jmh-FastPathBenchmark.png)"), md);

        for (final String chart : List.of("jmh-FastPathBenchmark", "jmh-ServiceLookupBenchmark", "jmh-lookup-scaling")) {
            final Path png = dir.resolve("charts").resolve(chart + ".png");
            final Path svg = dir.resolve("charts").resolve(chart + ".svg");
            assertTrue(written.contains(png) && written.contains(svg), chart + " in " + written);
            final byte[] head = Arrays.copyOf(Files.readAllBytes(png), PNG_MAGIC.length);
            assertArrayEquals(PNG_MAGIC, head, chart + ".png is a PNG");
            assertTrue(Files.size(png) > 5_000, chart + ".png has a picture in it");
            assertTrue(Files.readString(svg).contains("<svg"), chart + ".svg is an SVG");
        }
    }

    @Test
    void shouldFormatFiguresToThreeSignificantDigits() {
        assertEquals("12,346", JmhReport.fmt(12_345.6));
        assertEquals("123", JmhReport.fmt(123.4));
        assertEquals("12.3", JmhReport.fmt(12.34));
        assertEquals("1.23", JmhReport.fmt(1.234));
        assertEquals("0.0123", JmhReport.fmt(0.01234));
        assertEquals("n/a", JmhReport.fmt(Double.NaN));
    }
}
