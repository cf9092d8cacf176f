package dev.ferry.control.admin;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigLoader;
import dev.ferry.control.files.FileModes;
import dev.ferry.control.cli.FerryJvm;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The install files in src/main/dist agree with the code: paths, the example node config. */
class DistFilesTest {
    private static final Path DIST = Path.of("src/main/dist");

    @Test
    void shouldShipAnExampleNodeConfigThatLoads() throws Exception {
        final NodeConfig config = NodeConfigLoader.load(DIST.resolve("node.yaml"));
        assertEquals("node-1", config.nodeName());
    }

    @Test
    void shouldRunTheAgentWithTheDefaultPathsTheToolsRead() throws Exception {
        final String unit = Files.readString(DIST.resolve("ferry.service"));
        final List<String> lines = unit.lines().toList();
        final String execStart = lines.stream().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
        assertTrue(execStart.contains(" agent --node-config " + AgentPaths.NODE_CONFIG_FILE + " --manifests "
            + AgentPaths.MANIFESTS_DIR + " "), execStart);
        assertTrue(lines.contains("RuntimeDirectory=" + AgentPaths.DEFAULT_RUN_DIR.getFileName()), unit);
        assertTrue(lines.contains("StateDirectory=" + AgentPaths.DEFAULT_STATE_DIR.getFileName()), unit);
        assertTrue(lines.contains("CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW"), unit);
        assertEquals(AgentPaths.DEFAULT_RUN_DIR.resolve("counters"), AgentPaths.COUNTERS_FILE);
        assertTrue(Files.isExecutable(DIST.resolve("ferry")), "the launcher is executable");
    }

    @Test
    void shouldRunTheAgentAsTheSystemUserSysusersCreatesWhoseGroupReadsTheCounters() throws Exception {
        final List<String> unit = Files.readString(DIST.resolve("ferry.service")).lines().toList();
        final List<String> users = Files.readString(DIST.resolve("ferry.sysusers")).lines()
            .filter(l -> l.startsWith("u ")).map(l -> l.split("\\s+")[1]).toList();
        assertEquals(List.of(FileModes.READERS_GROUP), users, "sysusers creates one user (and its group)");
        assertTrue(unit.contains("User=" + FileModes.READERS_GROUP), "the unit runs as that user");
        assertTrue(unit.contains("Group=" + FileModes.READERS_GROUP), "the counters' readers group is the agent's own");
    }

    /**
     * jvm.options is the one list of the JVM's options: every launcher and build file that
     * starts a Ferry JVM reads it, and none spells an option out again (a copy goes stale: the
     * Vagrant launcher's had lost two of the four once).
     */
    @Test
    void shouldKeepTheJvmOptionsInOneFileThatEveryLauncherReads() throws Exception {
        final List<String> options = FerryJvm.FLAGS;
        assertTrue(options.contains("--enable-native-access=ALL-UNNAMED"), options.toString());
        final Path root = Path.of("..");
        final List<Path> starters = List.of(root.resolve("ferry"), DIST.resolve("ferry"), root.resolve("pom.xml"),
            root.resolve("vagrant/provision/vm-install.sh"), root.resolve("control/package/pom.xml"));
        for (final Path starter : starters) {
            final String text = Files.readString(starter);
            assertTrue(text.contains("jvm.options"), starter + " reads jvm.options");
            // Maven's own JVM is not a Ferry JVM: MAVEN_OPTS may name an option for itself
            final List<String> lines = text.lines().filter(l -> !l.contains("MAVEN_OPTS")).toList();
            for (final String option : options) {
                // the option's own part: --enable-native-access, or the package an --add-opens opens
                final String token = option.contains("/") ? option.substring(option.lastIndexOf('/') + 1) : option.split("=")[0];
                assertTrue(lines.stream().noneMatch(l -> l.contains(token)), starter + " spells out " + token + " instead of reading jvm.options");
            }
        }
    }
}
