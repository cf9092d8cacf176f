package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.port.PacketPort;
import org.agrona.concurrent.IdleStrategy;

/**
 * How a queue thread waits for packets: after a duty cycle that found nothing it spins for
 * {@code spinNs} (a burst's next packet is usually microseconds away, and a thread that
 * sleeps pays a wake-up), then blocks in the kernel on the port's descriptor
 * ({@link PacketPort#awaitReadable}) until a packet arrives or {@code pollTimeoutMs} pass, so an
 * idle queue costs no CPU and still runs a duty cycle (a conntrack GC slice) that often.
 *
 * <pre>
 *  work ─► reset ─► doWork ─► nothing ─► spin (onSpinWait) ... spinNs ... ─► poll(fd, timeout) ─► doWork
 * </pre>
 *
 * One instance per queue thread; allocation-free.
 */
final class PortIdleStrategy implements IdleStrategy {
    private final PacketPort port;
    private final long spinNs;
    private final int pollTimeoutMs;
    private long idleSinceNs;
    private boolean spinning;
    private long polls;

    PortIdleStrategy(final PacketPort port, final long spinNs, final int pollTimeoutMs) {
        this.port = port;
        this.spinNs = spinNs;
        this.pollTimeoutMs = pollTimeoutMs;
    }

    @Override
    public void idle(final int workCount) {
        if (workCount > 0) {
            reset();
        } else {
            idle();
        }
    }

    @Override
    public void idle() {
        final long nowNs = System.nanoTime();
        if (!spinning) {
            spinning = true;
            idleSinceNs = nowNs;
        }
        if (nowNs - idleSinceNs < spinNs) {
            Thread.onSpinWait();
            return;
        }
        polls++;
        port.awaitReadable(pollTimeoutMs);
        spinning = false; // after a wake-up: one duty cycle, then spin again before the next poll
    }

    @Override
    public void reset() {
        spinning = false;
    }

    /** Times this strategy blocked in the kernel (for tests and diagnostics; read from its own thread). */
    long polls() {
        return polls;
    }

    @Override
    public String alias() {
        return "port-poll";
    }
}
