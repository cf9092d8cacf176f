package dev.ferry.control.ops;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.packet.DropReason;
import org.agrona.concurrent.status.CountersReader;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code ferry stat}'s model, after Aeron's AeronStat: reads every counter of a counters file,
 * sums each counter type over the sets (one per queue thread), and
 * renders one screen, with per-second rates when given the previous sample.
 */
public final class CounterStat {
    private CounterStat() {
    }

    /**
     * One counter type summed over agents.
     *
     * @param typeId stable type id from the counters file
     * @param name   what it counts ("packets received", "dropped: conntrack table full: ...")
     * @param value  the sum
     */
    public record Row(int typeId, String name, long value) {
    }

    /**
     * Everything read at one instant.
     *
     * @param nanoTime when (System.nanoTime scale), for rates
     * @param agents   counter sets in the file (one per queue)
     */
    public record Sample(long nanoTime, int agents, List<Row> rows) {
        public long value(final int typeId) {
            for (final Row row : rows) {
                if (row.typeId() == typeId) {
                    return row.value();
                }
            }
            return 0;
        }
    }

    /** Reads and sums every allocated counter. Rows come in CounterType order, then DropReason order, then unknown types. */
    public static Sample sample(final CountersReader reader, final long nanoTime) {
        final Map<Integer, Sum> sums = new TreeMap<>();
        final int[] agents = {0};
        reader.forEach((counterId, typeId, keyBuffer, label) -> {
            sums.computeIfAbsent(order(typeId), k -> new Sum(typeId, name(typeId, label))).value +=
                reader.getCounterValue(counterId);
            if (typeId == CounterType.RX_PACKETS.typeId()) {
                agents[0]++;
            }
        });
        final List<Row> rows = new ArrayList<>(sums.size());
        for (final Sum sum : sums.values()) {
            rows.add(new Row(sum.typeId, sum.name, sum.value));
        }
        return new Sample(nanoTime, agents[0], List.copyOf(rows));
    }

    private static final class Sum {
        final int typeId;
        final String name;
        long value;

        Sum(final int typeId, final String name) {
            this.typeId = typeId;
            this.name = name;
        }
    }

    /**
     * One screen: a title line, then VALUE (and RATE/s when {@code previous} is given) and the
     * counter's name per row. Ends with a newline.
     */
    public static String render(final String title, final Sample previous, final Sample current) {
        final boolean rates = previous != null && current.nanoTime() > previous.nanoTime();
        final StringBuilder out = new StringBuilder(2048);
        out.append(title).append('\n');
        out.append(rates ? String.format(Locale.ROOT, "%16s %12s   %s%n", "VALUE", "RATE/s", "COUNTER")
            : String.format(Locale.ROOT, "%16s   %s%n", "VALUE", "COUNTER"));
        final double seconds = rates ? (current.nanoTime() - previous.nanoTime()) / 1e9 : 0;
        for (final Row row : current.rows()) {
            if (rates) {
                final double rate = (row.value() - previous.value(row.typeId())) / seconds;
                out.append(String.format(Locale.ROOT, "%16d %12.1f   %s%n", row.value(), rate, row.name()));
            } else {
                out.append(String.format(Locale.ROOT, "%16d   %s%n", row.value(), row.name()));
            }
        }
        return out.toString();
    }

    /** The counter sets behind a sample, for the title: "2 counter sets (2 queues)", one per queue thread. */
    public static String describeAgents(final int agents) {
        return agents + (agents == 1 ? " counter set (1 queue)" : " counter sets (" + agents + " queues)");
    }

    private static int order(final int typeId) {
        for (final CounterType type : CounterType.values()) {
            if (type.typeId() == typeId) {
                return type.ordinal();
            }
        }
        for (final DropReason reason : DropReason.values()) {
            if (CounterType.dropTypeId(reason) == typeId) {
                return 1_000 + reason.ordinal();
            }
        }
        return 1_000_000 + typeId; // a type this build does not know: after the known ones, by id
    }

    private static String name(final int typeId, final String label) {
        for (final CounterType type : CounterType.values()) {
            if (type.typeId() == typeId) {
                return type.description();
            }
        }
        for (final DropReason reason : DropReason.values()) {
            if (CounterType.dropTypeId(reason) == typeId) {
                return "dropped: " + reason.description();
            }
        }
        // Labels are "agent: what"; a newer agent's type is named by its label without the agent.
        final int colon = label.indexOf(": ");
        return (colon < 0 ? label : label.substring(colon + 2)) + " (type " + typeId + ")";
    }
}
