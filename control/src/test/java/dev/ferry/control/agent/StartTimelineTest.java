package dev.ferry.control.agent;

import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StartTimelineTest {
    @Test
    void shouldGiveEachPhaseInOrderAndAddUpToTheTimeSinceTheProcessStarted() throws Exception {
        final StartTimeline timeline = new StartTimeline();
        Thread.sleep(30);
        timeline.phaseDone("first");
        timeline.phaseDone("second");
        final String text = timeline.describe();
        final Matcher m = Pattern.compile("started in (\\d+) ms from the process's start: JVM and command line (\\d+) ms, "
            + "first (\\d+) ms, second (\\d+) ms").matcher(text);
        assertTrue(m.matches(), text);
        final long total = Long.parseLong(m.group(1));
        assertTrue(Long.parseLong(m.group(3)) >= 30, "the sleep is in the first phase: " + text);
        // this JVM (the test fork) started a while ago: the first phase holds that
        assertTrue(Long.parseLong(m.group(2)) > 0, text);
        final long sum = Long.parseLong(m.group(2)) + Long.parseLong(m.group(3)) + Long.parseLong(m.group(4));
        assertTrue(Math.abs(total - sum) <= 3, "phases add up to the total, but for rounding: " + text);
        assertEquals(total, timeline.totalMs());
    }
}
