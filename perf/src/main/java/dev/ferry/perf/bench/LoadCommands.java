package dev.ferry.perf.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.perf.load.LoadClient;
import dev.ferry.perf.load.LoadMode;
import dev.ferry.perf.load.LoadResult;
import dev.ferry.perf.load.LoadServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** The lab bench's helper processes, started inside lab namespaces with {@code ip netns exec}. */
final class LoadCommands {
    static final ObjectMapper JSON = new ObjectMapper();

    private LoadCommands() {
    }

    @Command(name = "load-server", mixinStandardHelpOptions = true,
        description = {"Run the load server in this network namespace (ports 7000-7003, stats on 7009)",
            "until SIGTERM or --lifetime-s."})
    static final class Server implements Callable<Integer> {
        @Option(names = "--threads", defaultValue = "1", description = "Event loop threads (default: ${DEFAULT-VALUE}).")
        int threads;
        @Option(names = "--lifetime-s", defaultValue = "3600", description = "Exit by itself after this long (default: ${DEFAULT-VALUE}).")
        long lifetimeS;

        @Override
        public Integer call() throws Exception {
            final CountDownLatch stop = new CountDownLatch(1);
            try (LoadServer server = LoadServer.start(threads)) {
                Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
                System.out.println("load server ready");
                System.out.flush();
                if (!stop.await(lifetimeS, TimeUnit.SECONDS)) {
                    System.out.println("load server: lifetime of " + lifetimeS + " s over, exiting; " + server.stats().line());
                }
            }
            return 0;
        }
    }

    @Command(name = "load-client", mixinStandardHelpOptions = true,
        description = {"Run one bounded load against TARGETs from this network namespace; print the result as JSON."})
    static final class Client implements Callable<Integer> {
        @Option(names = "--mode", required = true, description = "udp, crr, rr or bulk.")
        String mode;
        @Option(names = "--target", required = true, paramLabel = "HOST:PORT", description = "Where to send (repeatable, round robin).")
        List<String> targets = new ArrayList<>();
        @Option(names = "--stats", paramLabel = "HOST", description = "A load server's address, for udp/bulk counters (repeatable).")
        List<String> stats = new ArrayList<>();
        @Option(names = "--concurrency", defaultValue = "8", description = "Sockets/connections in flight (default: ${DEFAULT-VALUE}).")
        int concurrency;
        @Option(names = "--payload", defaultValue = "64", description = "UDP payload bytes (default: ${DEFAULT-VALUE}).")
        int payload;
        @Option(names = "--warmup-ms", defaultValue = "2000", description = "Load before the window (default: ${DEFAULT-VALUE}).")
        long warmupMs;
        @Option(names = "--duration-ms", defaultValue = "5000", description = "Measurement window (default: ${DEFAULT-VALUE}).")
        long durationMs;
        @Option(names = "--max-count", defaultValue = "50000000", description = "Stop after this many operations (default: ${DEFAULT-VALUE}).")
        long maxCount;
        @Option(names = "--threads", defaultValue = "1", description = "Event loop threads (default: ${DEFAULT-VALUE}).")
        int threads;
        @Option(names = "--graceful-close", description = "crr: wait for the server's FIN and close in turn (the server holds "
            + "TIME_WAIT, as with wrk -H 'Connection: close'), instead of resetting once answered.")
        boolean gracefulClose;

        @Override
        public Integer call() throws Exception {
            final LoadResult result = LoadClient.run(new LoadClient.Spec(LoadMode.valueOf(mode.toUpperCase()), targets, stats,
                concurrency, payload, warmupMs, durationMs, maxCount, threads, gracefulClose));
            System.out.println(JSON.writeValueAsString(result));
            return 0;
        }
    }
}
