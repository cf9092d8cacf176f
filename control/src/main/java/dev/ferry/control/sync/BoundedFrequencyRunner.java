package dev.ferry.control.sync;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs a function no more often than {@code minIntervalMs} and at least every
 * {@code maxIntervalMs}, coalescing the requests that arrive in between, like kube-proxy's
 * {@code BoundedFrequencyRunner}: a burst of changes costs one sync, and a periodic sync
 * repairs anything a missed event left behind.
 *
 * <p>The function runs on the runner's own thread, never twice at once. An exception it
 * throws is handed to the error handler and the runner goes on.
 */
public final class BoundedFrequencyRunner implements AutoCloseable {
    private final String name;
    private final Runnable function;
    private final long minIntervalMs;
    private final long maxIntervalMs;
    private final LongSupplier clockMs;
    private final java.util.function.Consumer<Throwable> errorHandler;
    private final ScheduledExecutorService executor;

    private long lastRunMs = Long.MIN_VALUE / 2;
    private boolean scheduled;

    public BoundedFrequencyRunner(final String name, final Runnable function, final long minIntervalMs, final long maxIntervalMs,
                                  final java.util.function.Consumer<Throwable> errorHandler) {
        if (minIntervalMs < 0 || maxIntervalMs <= 0 || minIntervalMs > maxIntervalMs) {
            throw new IllegalArgumentException("sync intervals must satisfy 0 <= min (" + minIntervalMs
                + " ms) <= max (" + maxIntervalMs + " ms), max > 0");
        }
        this.name = name;
        this.function = function;
        this.minIntervalMs = minIntervalMs;
        this.maxIntervalMs = maxIntervalMs;
        this.clockMs = () -> System.nanoTime() / 1_000_000L;
        this.errorHandler = errorHandler;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            final Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts the periodic runs (the first one at once). */
    public void start() {
        executor.scheduleWithFixedDelay(this::periodic, 0, maxIntervalMs, TimeUnit.MILLISECONDS);
    }

    /** Asks for a run: at once if the last one is at least minInterval ago, else when it will be. */
    public synchronized void run() {
        if (scheduled) {
            return; // coalesced into the run already scheduled
        }
        scheduled = true;
        final long waitMs = Math.max(0, lastRunMs + minIntervalMs - clockMs.getAsLong());
        executor.schedule(this::runNow, waitMs, TimeUnit.MILLISECONDS);
    }

    private void periodic() {
        final long sinceLast;
        synchronized (this) {
            sinceLast = clockMs.getAsLong() - lastRunMs;
        }
        if (sinceLast >= maxIntervalMs - 1) {
            runNow();
        }
    }

    private void runNow() {
        synchronized (this) {
            scheduled = false;
            lastRunMs = clockMs.getAsLong();
        }
        try {
            function.run();
        } catch (final Throwable t) {
            errorHandler.accept(t);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return name + " (min " + minIntervalMs + " ms, max " + maxIntervalMs + " ms)";
    }
}
