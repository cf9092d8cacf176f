package dev.ferry.control.admin;

import dev.ferry.control.health.Histogram;

import java.math.BigDecimal;

/**
 * Writes Prometheus' text exposition format (version 0.0.4): {@code # HELP} and {@code # TYPE}
 * lines, then samples, label values escaped. The format is small enough to write directly,
 * which keeps a metrics library and its registry out of the agent: every value here is read
 * from state the agent already keeps, at scrape time.
 */
final class PrometheusText {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out = new StringBuilder(8192);

    PrometheusText header(final String name, final String type, final String help) {
        out.append("# HELP ").append(name).append(' ');
        escape(help, false);
        out.append('\n').append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    PrometheusText sample(final String name, final long value) {
        out.append(name).append(' ').append(value).append('\n');
        return this;
    }

    PrometheusText sample(final String name, final double value) {
        out.append(name).append(' ').append(number(value)).append('\n');
        return this;
    }

    PrometheusText sample(final String name, final String label, final String labelValue, final long value) {
        out.append(name).append('{').append(label).append("=\"");
        escape(labelValue, true);
        out.append("\"} ").append(value).append('\n');
        return this;
    }

    /** A whole histogram: HELP, TYPE, cumulative buckets with +Inf, sum and count. */
    PrometheusText histogram(final String name, final String help, final Histogram histogram) {
        header(name, "histogram", help);
        for (int i = 0; i < histogram.bucketCount(); i++) {
            out.append(name).append("_bucket{le=\"").append(number(histogram.upperBound(i))).append("\"} ")
                .append(histogram.cumulativeCount(i)).append('\n');
        }
        out.append(name).append("_bucket{le=\"+Inf\"} ").append(histogram.count()).append('\n');
        sample(name + "_sum", histogram.sum());
        sample(name + "_count", histogram.count());
        return this;
    }

    /** Plain decimal without trailing zeros ("0.001", "16.384", "1"), as Prometheus clients print bounds. */
    static String number(final double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == 0) {
            return "0";
        }
        return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }

    private void escape(final String text, final boolean quotes) {
        for (int i = 0; i < text.length(); i++) {
            final char c = text.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '"' -> out.append(quotes ? "\\\"" : "\"");
                default -> out.append(c);
            }
        }
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
