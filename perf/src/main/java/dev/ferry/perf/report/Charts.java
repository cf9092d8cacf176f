package dev.ferry.perf.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reports' charts, drawn with XChart and written as PNG and SVG side by side. Two shapes
 * cover every report: bars (one category per benchmark or per dataplane, one series per
 * variant, optional error bars) and lines over a numeric x axis (a cost against the number of
 * services). Headless: no display is needed.
 */
public final class Charts {
    public static final int WIDTH = 1000;
    public static final int HEIGHT = 560;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /** One series of a bar chart: a value per category (NaN: no bar), and optional error half-widths. */
    public record BarSeries(String name, List<Double> values, List<Double> errors) {
        public BarSeries {
            values = List.copyOf(values);
            errors = errors == null ? null : List.copyOf(errors);
        }
    }

    /** One series of a line chart. */
    public record LineSeries(String name, List<Double> x, List<Double> y) {
        public LineSeries {
            x = List.copyOf(x);
            y = List.copyOf(y);
        }
    }

    /**
     * Writes {@code dir/name.png} and {@code dir/name.svg}: bars per category, one colour per
     * series. Returns the two files.
     */
    public static List<Path> bars(final Path dir, final String name, final String title, final String yTitle,
                                  final List<String> categories, final List<BarSeries> series, final boolean logY) throws IOException {
        final CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
            .xAxisTitle("").yAxisTitle(yTitle).build();
        final var styler = chart.getStyler();
        styler.setLegendVisible(series.size() > 1);
        styler.setLegendPosition(Styler.LegendPosition.InsideNE);
        styler.setXAxisLabelRotation(categories.stream().mapToInt(String::length).max().orElse(0) > 12 ? 30 : 0);
        styler.setYAxisLogarithmic(logY);
        if (logY) {
            // bars start at 0 unless told otherwise, and a log axis cannot hold 0
            final double smallest = series.stream().flatMap(s -> s.values().stream())
                .filter(v -> v != null && v > 0).mapToDouble(Double::doubleValue).min().orElse(1);
            styler.setYAxisMin(Math.pow(10, Math.floor(Math.log10(smallest))));
        }
        styler.setToolTipsEnabled(false);
        styler.setChartBackgroundColor(java.awt.Color.WHITE);
        styler.setPlotGridVerticalLinesVisible(false);
        styler.setAvailableSpaceFill(0.7);
        styler.setOverlapped(false);
        styler.setLabelsVisible(categories.size() * series.size() <= 24);
        styler.setLabelsFontColorAutomaticEnabled(false);
        styler.setLabelsFontColor(java.awt.Color.DARK_GRAY);
        styler.setLabelsPosition(0.98);
        styler.setDecimalPattern("#,##0.###");
        for (final BarSeries s : series) {
            final List<Double> values = new ArrayList<>();
            for (final Double v : s.values()) {
                // XChart leaves a NaN value without a bar.
                values.add(v == null || Double.isNaN(v) || v <= 0 && logY ? Double.NaN : v);
            }
            if (s.errors() != null && !logY) {
                final List<Double> errors = s.errors().stream().map(e -> e == null || Double.isNaN(e) ? 0.0 : e).toList();
                chart.addSeries(s.name(), categories, values, errors);
            } else {
                chart.addSeries(s.name(), categories, values);
            }
        }
        return save(chart, dir, name);
    }

    /** Writes {@code dir/name.png} and {@code dir/name.svg}: lines with markers over a numeric x axis. */
    public static List<Path> lines(final Path dir, final String name, final String title, final String xTitle, final String yTitle,
                                   final List<LineSeries> series, final boolean logX, final boolean yFromZero) throws IOException {
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        final var styler = chart.getStyler();
        styler.setXAxisLogarithmic(logX);
        styler.setLegendPosition(Styler.LegendPosition.InsideNW);
        styler.setChartBackgroundColor(java.awt.Color.WHITE);
        styler.setToolTipsEnabled(false);
        styler.setDecimalPattern("#,##0.##");
        if (yFromZero) {
            styler.setYAxisMin(0.0);
        }
        for (final LineSeries s : series) {
            chart.addSeries(s.name(), s.x(), s.y()).setMarker(SeriesMarkers.CIRCLE);
        }
        return save(chart, dir, name);
    }

    private static List<Path> save(final Chart<?, ?> chart, final Path dir, final String name) throws IOException {
        Files.createDirectories(dir);
        final Path png = dir.resolve(name + ".png");
        final Path svg = dir.resolve(name + ".svg");
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        VectorGraphicsEncoder.saveVectorGraphic(chart, svg.toString(), VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        return List.of(png, svg);
    }

    /** Groups values by key, keeping first-seen order: a helper for building categories. */
    public static <T> Map<String, List<T>> grouped(final List<T> items, final java.util.function.Function<T, String> key) {
        final Map<String, List<T>> groups = new LinkedHashMap<>();
        for (final T item : items) {
            groups.computeIfAbsent(key.apply(item), k -> new ArrayList<>()).add(item);
        }
        return groups;
    }
}
