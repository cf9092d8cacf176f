package dev.ferry.control.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Up and down leave nothing behind (privileged): no namespace, no process, no change to the
 * root namespace's addresses, routes or rules; a failure half way through up cleans up too.
 */
class LabLifecycleTest {
    @Test
    void shouldLeaveNoNamespaceProcessOrRootChangeAfterDown() {
        LabTestSupport.requirePrivileges();
        final Lab lab = LabTestSupport.lab("lifecycle");
        lab.down(true);
        final List<String> rootBefore = LabTestSupport.rootNetworkState();
        final List<Long> pids = new ArrayList<>();
        try {
            lab.up(new LabState.Settings(2, "tun", false));
            pids.addAll(LabNetwork.allLabPids(lab.prefix()));
            assertEquals(6, pids.size(), "four pod servers, the external server and the controller: " + pids);
            final LabException again = assertThrows(LabException.class, () -> lab.up(new LabState.Settings(2, "tun", false)));
            assertTrue(again.getMessage().contains("a lab is already up"), again.getMessage());
        } finally {
            lab.down();
        }
        assertEquals(List.of(), LabNetwork.existingNamespaces(lab.prefix()));
        for (final long pid : pids) {
            assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "process " + pid + " still alive");
        }
        assertEquals(rootBefore, LabTestSupport.rootNetworkState(), "root namespace addresses, routes and rules unchanged");
        assertTrue(!Files.exists(lab.state().settingsFile()), "state removed");
    }

    @Test
    void shouldRemoveEverythingWhenAProvisioningStepFails(@TempDir final Path scripts) throws Exception {
        LabTestSupport.requirePrivileges();
        final Path real = LabJava.scriptsDir();
        for (final String name : List.of("lib.sh", "node-net.sh", "router.sh", "client.sh")) {
            Files.copy(real.resolve(name), scripts.resolve(name));
        }
        Files.writeString(scripts.resolve("pod.sh"), "#!/usr/bin/env bash\necho 'pod.sh: broken on purpose' >&2\nexit 7\n");
        final Lab lab = LabTestSupport.lab("broken", scripts);
        lab.down(true);
        final LabException failure = assertThrows(LabException.class, () -> lab.up(new LabState.Settings(2, "tun", false)));
        assertTrue(failure.getMessage().contains("broken on purpose"), failure.getMessage());
        assertEquals(List.of(), LabNetwork.existingNamespaces(lab.prefix()));
    }
}
