package dev.ferry.conntrack;

import dev.ferry.nativeio.IpProtocol;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import static dev.ferry.conntrack.ConntrackTableTest.BACKEND;
import static dev.ferry.conntrack.ConntrackTableTest.CLIENT;
import static dev.ferry.conntrack.ConntrackTableTest.CLUSTER_IP;
import static dev.ferry.conntrack.ConntrackTableTest.T0;
import static dev.ferry.conntrack.FlowKeyTest.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Four workers insert, find, update and delete flows concurrently: each owns a disjoint set of
 * flows (checked against a private model at every step) and all fight over a shared set; one
 * also runs gc slices. Afterwards the table's invariants must hold. The table is smaller than the
 * flows, so TABLE_FULL is exercised too. Fixed operation counts, no timing.
 */
class ConcurrentConntrackTableTest {
    private static final int THREADS = 4;
    private static final int OWN_FLOWS = 64;
    private static final int SHARED_FLOWS = 64;
    private static final int OPERATIONS = 200_000;

    @Test
    void shouldKeepInvariantsUnderConcurrentInsertFindDelete() throws Exception {
        for (int round = 0; round < 3; round++) {
            runRound(round);
        }
    }

    @Test
    void shouldLetExactlyOneOfRacingInsertsOfTheSameFlowWin() throws Exception {
        final int flows = 20_000;
        // Headroom of one entry per worker: a losing inserter holds an entry until it rolls back.
        final ConntrackTable table = ConntrackTable.inMemory(flows + THREADS, ConntrackTimeouts.kubeProxyDefaults());
        final java.util.concurrent.atomic.AtomicIntegerArray wins = new java.util.concurrent.atomic.AtomicIntegerArray(flows);
        final CyclicBarrier start = new CyclicBarrier(THREADS);
        final ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            final List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                futures.add(pool.submit(() -> {
                    final FlowKey original = new FlowKey();
                    final FlowKey reply = new FlowKey();
                    start.await();
                    // Every worker inserts the same flows in the same order: they collide constantly.
                    for (int flow = 0; flow < flows; flow++) {
                        original.setIpv4(IpProtocol.UDP, CLIENT, flow, CLUSTER_IP, 53);
                        reply.setIpv4(IpProtocol.UDP, BACKEND, 53, ip(198, 18, 0, 1), flow);
                        final long handle = table.insert(original, reply, 0, 0, T0);
                        if (handle >= 0) {
                            wins.incrementAndGet(flow);
                        } else if (handle != ConntrackTable.ORIGINAL_EXISTS) {
                            fail("flow " + flow + ": insert returned " + handle);
                        }
                    }
                    return null;
                }));
            }
            for (final Future<?> future : futures) {
                future.get();
            }

            final FlowKey key = new FlowKey();
            int won = 0;
            for (int flow = 0; flow < flows; flow++) {
                assertTrue(wins.get(flow) <= 1, "flow " + flow + " inserted " + wins.get(flow) + " times");
                won += wins.get(flow);
                key.setIpv4(IpProtocol.UDP, CLIENT, flow, CLUSTER_IP, 53);
                assertEquals(wins.get(flow) == 1, table.find(key) >= 0);
            }
            assertEquals(won, table.size());
            checkInvariants(table, won);
        } finally {
            closeAfterWorkers(pool, table);
        }
    }

    /**
     * Stops the workers and waits for them before the table's memory goes: a worker still
     * probing a closed table reads freed memory (this test once crashed the JVM that way).
     */
    private static void closeAfterWorkers(final ExecutorService pool, final ConntrackTable table) throws InterruptedException {
        pool.shutdownNow();
        final boolean stopped = pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        if (stopped) {
            table.close();
        }
        assertTrue(stopped, "the worker threads stopped; the table is left open rather than freed under them");
    }

    /**
     * Workers compete for a few SNAT tuples as the dataplane does: insert a flow with a tuple;
     * when it is taken, take it over if its flow is over (TIME_WAIT or CLOSE), else try another.
     * Each worker keeps its live flow established for a while and checks at every step that it is
     * still there under its handle (a takeover of a live flow would fail that), then finishes it
     * gracefully or by reset and leaves it to be taken over. The clock stands still, so nothing
     * expires: only finished flows may disappear. The table is closed after the threads end.
     */
    @Test
    void shouldTakeOverOnlyFinishedFlowsUnderConcurrentTakeovers() throws Exception {
        final int tuples = 8;
        final int operations = 100_000;
        final ConntrackTable table = ConntrackTable.inMemory(64, ConntrackTimeouts.kubeProxyDefaults());
        final AtomicLong netInserts = new AtomicLong();
        final AtomicLong takeovers = new AtomicLong();
        final CyclicBarrier start = new CyclicBarrier(THREADS);
        final ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            final List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                final int thread = t;
                futures.add(pool.submit(() -> {
                    final SplittableRandom random = new SplittableRandom(97L * thread);
                    final FlowKey original = new FlowKey();
                    final FlowKey reply = new FlowKey();
                    int clientPort = 0;
                    long live = -1;
                    int liveSteps = 0;
                    start.await();
                    for (int op = 0; op < operations; op++) {
                        if (live >= 0) {
                            // Our live flow must still be ours, under the same handle.
                            originalOfTakeover(thread, clientPort, original);
                            assertEquals(live, table.find(original), "a live flow was taken over");
                            if (--liveSteps > 0) {
                                table.onPacket(live, TcpFlags.ACK, 52, T0);
                                continue;
                            }
                            if (random.nextBoolean()) {
                                table.onPacket(live, TcpFlags.FIN | TcpFlags.ACK, 52, T0);
                                table.onPacket(live | 1, TcpFlags.ACK, 52, T0);
                                table.onPacket(live | 1, TcpFlags.FIN | TcpFlags.ACK, 52, T0);
                                // The entry may be taken over the moment this returns: check the returned state.
                                assertEquals(ConntrackState.TIME_WAIT, table.onPacket(live, TcpFlags.ACK, 52, T0));
                            } else {
                                assertEquals(ConntrackState.CLOSE, table.onPacket(live | 1, TcpFlags.RST, 40, T0));
                            }
                            live = -1; // finished: anyone may take it over from here on
                            continue;
                        }
                        clientPort = (clientPort + 1) & 0xFFFF;
                        originalOfTakeover(thread, clientPort, original);
                        reply.setIpv4(IpProtocol.TCP, BACKEND, 8080, ip(198, 18, 0, 1), 61000 + random.nextInt(tuples));
                        long handle = table.insert(original, reply, thread, 0, T0);
                        if (handle == ConntrackTable.REPLY_EXISTS) {
                            final long holder = table.find(reply);
                            if (holder >= 0 && table.deleteIfOver(holder, T0)) {
                                netInserts.decrementAndGet();
                                takeovers.incrementAndGet();
                            }
                            handle = table.insert(original, reply, thread, 0, T0);
                        }
                        if (handle >= 0) {
                            netInserts.incrementAndGet();
                            table.onPacket(handle, TcpFlags.SYN, 60, T0);
                            table.onPacket(handle | 1, TcpFlags.SYN | TcpFlags.ACK, 60, T0);
                            table.onPacket(handle, TcpFlags.ACK, 52, T0);
                            live = handle;
                            liveSteps = 1 + random.nextInt(16);
                        } else if (handle != ConntrackTable.REPLY_EXISTS) {
                            fail("thread " + thread + ": insert returned " + handle);
                        }
                    }
                    return null;
                }));
            }
            for (final Future<?> future : futures) {
                future.get();
            }

            assertTrue(takeovers.get() > 0, "tuples were taken over");
            final FlowKey key = new FlowKey();
            final Set<FlowKey> replies = new HashSet<>();
            table.forEach(handle -> {
                table.readOriginal(handle, key);
                assertEquals(handle, table.find(key));
                table.readReply(handle, key);
                assertTrue(replies.add(new FlowKey().copyFrom(key)), "two flows hold " + key);
                assertEquals(handle | 1, table.find(key));
            });
            assertTrue(table.size() <= tuples);
            assertEquals(netInserts.get(), table.size());
            assertEquals(table.capacity(), table.size() + table.freeCount(), "no entry leaked");
        } finally {
            closeAfterWorkers(pool, table);
        }
    }

    private static FlowKey originalOfTakeover(final int thread, final int clientPort, final FlowKey out) {
        return out.setIpv4(IpProtocol.TCP, ip(203, 0, 113, 1 + thread), clientPort, CLUSTER_IP, 80);
    }

    private static FlowKey originalOf(final int thread, final int flow, final FlowKey out) {
        // thread -1: the shared flows
        return out.setIpv4(IpProtocol.TCP, CLIENT + thread + 1, 10_000 + flow, CLUSTER_IP, 80);
    }

    private static FlowKey replyOf(final int thread, final int flow, final FlowKey out) {
        return out.setIpv4(IpProtocol.TCP, BACKEND, 8080, ip(198, 18, 0, 1), 20_000 + (thread + 1) * 1000 + flow);
    }

    private void runRound(final int round) throws Exception {
        final ConntrackTable table = ConntrackTable.inMemory(THREADS * OWN_FLOWS, ConntrackTimeouts.kubeProxyDefaults());
        final AtomicLong netInserts = new AtomicLong();
        final CyclicBarrier start = new CyclicBarrier(THREADS);
        final ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            final List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                final int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    work(table, thread, new SplittableRandom(round * 31L + thread), netInserts);
                    return null;
                }));
            }
            for (final Future<?> future : futures) {
                future.get();
            }

            checkInvariants(table, netInserts.get());
        } finally {
            closeAfterWorkers(pool, table);
        }
    }

    private static void work(
        final ConntrackTable table, final int thread, final SplittableRandom random, final AtomicLong netInserts) {
        final boolean[] present = new boolean[OWN_FLOWS];
        final FlowKey original = new FlowKey();
        final FlowKey reply = new FlowKey();
        final FlowKey read = new FlowKey();
        // One clock for all workers, standing still: nothing expires, so every disappearance of an
        // own flow is a bug (an inserting worker that finds the table full may run a gc slice).
        final long nowMs = T0;
        for (int op = 0; op < OPERATIONS; op++) {
            final boolean shared = random.nextInt(3) == 0;
            final int owner = shared ? -1 : thread;
            final int flow = random.nextInt(shared ? SHARED_FLOWS : OWN_FLOWS);
            originalOf(owner, flow, original);
            replyOf(owner, flow, reply);
            final boolean byReply = random.nextBoolean();
            final long handle = table.find(byReply ? reply : original);

            if (!shared && (handle >= 0) != present[flow]) {
                fail("thread " + thread + " flow " + flow + ": find says " + handle + ", model says " + present[flow]);
            }
            if (handle >= 0) {
                if (!shared) {
                    assertEquals(byReply ? 1 : 0, ConntrackTable.direction(handle));
                    table.readOriginal(handle, read);
                    assertEquals(original, read);
                    table.readReply(handle, read);
                    assertEquals(reply, read);
                }
                if (random.nextInt(4) == 0) {
                    final boolean deleted = table.delete(handle);
                    if (!shared) {
                        assertTrue(deleted);
                        present[flow] = false;
                    }
                    if (deleted) {
                        netInserts.decrementAndGet();
                    }
                } else {
                    table.onPacket(handle, TcpFlags.ACK, 100, nowMs);
                }
            } else {
                final long inserted = table.insert(original, reply, thread, 0, nowMs);
                if (inserted >= 0) {
                    netInserts.incrementAndGet();
                    table.onPacket(inserted, TcpFlags.SYN, 60, nowMs);
                }
                if (!shared) {
                    if (inserted == ConntrackTable.ORIGINAL_EXISTS || inserted == ConntrackTable.REPLY_EXISTS) {
                        fail("thread " + thread + " flow " + flow + ": own flow insert returned " + inserted);
                    }
                    present[flow] = inserted >= 0;
                }
            }
            if (thread == 0 && op % 64 == 0) {
                table.gc(T0, 8); // nothing expires at T0: exercises the cursor and the tombstone sweep
            }
        }
    }

    private static void checkInvariants(final ConntrackTable table, final long netInserts) {
        final FlowKey key = new FlowKey();
        final Set<FlowKey> originals = new HashSet<>();
        final Set<FlowKey> replies = new HashSet<>();
        final int[] live = new int[1];
        table.forEach(handle -> {
            live[0]++;
            table.readOriginal(handle, key);
            assertTrue(originals.add(new FlowKey().copyFrom(key)), "duplicate original " + key);
            assertEquals(handle, table.find(key), "findable by original: " + key);
            table.readReply(handle, key);
            assertTrue(replies.add(new FlowKey().copyFrom(key)), "duplicate reply " + key);
            assertEquals(handle | 1, table.find(key), "findable by reply: " + key);
        });

        assertEquals(live[0], table.size());
        assertEquals(netInserts, table.size());
        assertEquals(table.capacity(), table.size() + table.freeCount(), "no entry leaked");
        for (int thread = -1; thread < THREADS; thread++) {
            for (int flow = 0; flow < Math.max(OWN_FLOWS, SHARED_FLOWS); flow++) {
                final boolean inTable = originals.contains(originalOf(thread, flow, key));
                assertEquals(inTable, table.find(key) >= 0, key.toString());
                assertEquals(inTable, table.find(replyOf(thread, flow, key)) >= 0, key.toString());
            }
        }
    }
}
