package dev.ferry.control.ops;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.packet.DropReason;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CounterStatTest {
    @Test
    void shouldComputeRatesPerSecondFromTwoSamples() {
        final CounterStat.Sample before = new CounterStat.Sample(1_000_000_000L, 3,
            List.of(new CounterStat.Row(1, "packets received", 100), new CounterStat.Row(1010, "dropped: ring full", 0)));
        final CounterStat.Sample after = new CounterStat.Sample(1_500_000_000L, 3,
            List.of(new CounterStat.Row(1, "packets received", 600), new CounterStat.Row(1010, "dropped: ring full", 3)));
        assertEquals("title\n"
                + "           VALUE       RATE/s   COUNTER\n"
                + "             600       1000.0   packets received\n"
                + "               3          6.0   dropped: ring full\n",
            CounterStat.render("title", before, after));
    }

    @Test
    void shouldShowSnatExhaustionAndTupleReuseSummedOverQueues() {
        try (DataplaneCounters counters = DataplaneCounters.inMemory(2)) {
            counters.queue(0).drop(DropReason.SNAT_PORTS_EXHAUSTED);
            counters.queue(1).drop(DropReason.SNAT_PORTS_EXHAUSTED);
            counters.queue(1).add(CounterType.SNAT_TUPLES_REUSED, 5);
            final CounterStat.Sample sample = CounterStat.sample(counters.reader(), 0);
            assertEquals(2, sample.value(CounterType.dropTypeId(DropReason.SNAT_PORTS_EXHAUSTED)));
            assertEquals(5, sample.value(CounterType.SNAT_TUPLES_REUSED.typeId()));
            final String screen = CounterStat.render("title", null, sample);
            assertTrue(screen.contains("               2   dropped: " + DropReason.SNAT_PORTS_EXHAUSTED.description() + "\n"), screen);
            assertTrue(screen.contains("               5   " + CounterType.SNAT_TUPLES_REUSED.description() + "\n"), screen);
        }
    }

    @Test
    void shouldDescribeTheCounterSetsAsQueues() {
        assertEquals("1 counter set (1 queue)", CounterStat.describeAgents(1));
        assertEquals("4 counter sets (4 queues)", CounterStat.describeAgents(4));
    }

    @Test
    void shouldAbbreviateLongEndpointListsLikeKubectl() {
        assertEquals("<none>", ServicesView.abbreviate(List.of()));
        assertEquals("a,b,c", ServicesView.abbreviate(List.of("a", "b", "c")));
        assertEquals("a,b,c + 2 more...", ServicesView.abbreviate(List.of("a", "b", "c", "d", "e")));
    }
}
