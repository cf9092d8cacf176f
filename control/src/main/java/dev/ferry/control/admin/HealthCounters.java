package dev.ferry.control.admin;

import java.util.concurrent.atomic.AtomicLong;

/** Answers given by {@code /healthz} and {@code /livez}, by status code: kube-proxy's {@code proxy_healthz_total} and {@code proxy_livez_total}. */
final class HealthCounters {
    private final AtomicLong healthz200 = new AtomicLong();
    private final AtomicLong healthz503 = new AtomicLong();
    private final AtomicLong livez200 = new AtomicLong();
    private final AtomicLong livez503 = new AtomicLong();

    void healthz(final boolean ok) {
        (ok ? healthz200 : healthz503).incrementAndGet();
    }

    void livez(final boolean ok) {
        (ok ? livez200 : livez503).incrementAndGet();
    }

    long healthz200() {
        return healthz200.get();
    }

    long healthz503() {
        return healthz503.get();
    }

    long livez200() {
        return livez200.get();
    }

    long livez503() {
        return livez503.get();
    }
}
