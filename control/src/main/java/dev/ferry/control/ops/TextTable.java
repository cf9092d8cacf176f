package dev.ferry.control.ops;

import java.util.ArrayList;
import java.util.List;

/** Left-aligned columns separated by three spaces, headers in capitals, as kubectl prints them. */
final class TextTable {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    TextTable(final String... headers) {
        this.columns = headers.length;
        rows.add(headers);
    }

    TextTable row(final String... cells) {
        if (cells.length != columns) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, table has " + columns + " columns");
        }
        rows.add(cells);
        return this;
    }

    /** The table, each line ending in a newline, no trailing spaces. */
    String render() {
        final int[] widths = new int[columns];
        for (final String[] row : rows) {
            for (int c = 0; c < columns; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        final StringBuilder out = new StringBuilder();
        for (final String[] row : rows) {
            final StringBuilder line = new StringBuilder();
            for (int c = 0; c < columns; c++) {
                line.append(row[c]);
                if (c < columns - 1) {
                    line.append(" ".repeat(widths[c] - row[c].length() + 3));
                }
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }
}
