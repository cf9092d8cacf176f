package dev.ferry.control.cli;

import dev.ferry.control.aot.AotTraining;
import dev.ferry.control.config.NodeConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * {@code ferry aot-training}: the agent's start-up work without a host ({@link AotTraining}),
 * for the launchers to run once under {@code -XX:AOTCacheOutput} after a build or an install,
 * so that every later start of the agent reads the ahead-of-time cache it leaves.
 */
@Command(name = "aot-training",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Run the agent's start-up work without a host, for the start-up cache.",
        "Parses generated manifests, compiles and syncs the table, takes reloads and translates packets in memory, then",
        "exits. The launchers run it under java -XX:AOTCacheOutput=FILE after a build (./ferry) or an install (the",
        "Debian package) to record an ahead-of-time cache that later agents start from. Needs no root; touches",
        "nothing outside a temporary directory."},
    footer = {
        "",
        "Example (what ./ferry build does; the launchers use the cache while it is newer than the jar):",
        "  java @jvm.options -XX:AOTCacheOutput=control/target/ferry.aot -jar control/target/ferry.jar aot-training",
        "",
        "Exit status: 0 done; 1 the training failed; 2 bad usage."})
final class AotTrainingCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--services", paramLabel = "N", defaultValue = "10000",
        description = "Generated services in the first load (default ${DEFAULT-VALUE}).")
    int services;

    @Option(names = "--changes", paramLabel = "N", defaultValue = "40",
        description = "Reloads after the first load: new files and an endpoint flapping (default ${DEFAULT-VALUE}).")
    int changes;

    @Override
    public Integer call() {
        if (services < 1 || changes < 0) {
            spec.commandLine().getErr().println("ferry aot-training: --services must be at least 1 and --changes at least 0");
            return 2;
        }
        try {
            final AotTraining.Result result = new AotTraining(services, changes).run();
            spec.commandLine().getOut().printf("aot-training: %d service ports loaded in %d ms, %d reloads, %d packets translated, %d ms in all%n",
                result.servicePortsFirstLoad(), result.firstLoadMs(), result.reloads(), result.packetsTranslated(), result.totalMs());
            return 0;
        } catch (final IOException | NodeConfigException | RuntimeException e) {
            spec.commandLine().getErr().println("ferry aot-training: " + e);
            return 1;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }
}
