package dev.ferry.control.source;

import dev.ferry.control.dns.ServiceNames;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.util.List;

/**
 * One immutable state of the manifest source: what the dataplane should serve, what was
 * rejected on the way, and how much changed since the previous snapshot.
 *
 * @param generation      1 for the first snapshot, one more for each that differs from the one before
 * @param servicePorts    the dataplane's input (hand it to {@code ServiceTable.compile} or the sync)
 * @param errors          every current problem: rejected objects, unreadable files, objects served
 *                        from their last good version; each names the file, the object and the field
 * @param newErrors       the errors that were not in the previous snapshot, for logging each problem once
 * @param serviceChanges  services (namespace/name) added, removed or changed apart from their endpoints,
 *                        for {@code kubeproxy_sync_proxy_rules_service_changes_total}
 * @param endpointChanges services whose endpoints changed, for {@code kubeproxy_sync_proxy_rules_endpoint_changes_total}
 * @param changedAtMs     wall-clock time the first change that led to this snapshot was seen (for
 *                        {@code kubeproxy_network_programming_duration_seconds})
 * @param stateWriteErrors writes of the allocations to the state directory that failed since the
 *                        source started (serving went on; for {@code ferry_state_write_errors_total})
 * @param names           the services' DNS names, from the same objects as {@code servicePorts}
 */
public record SourceSnapshot(long generation, List<ServicePortSpec> servicePorts, List<ManifestError> errors,
                             List<ManifestError> newErrors, int serviceChanges, int endpointChanges, long changedAtMs,
                             long stateWriteErrors, ServiceNames names) {
    public SourceSnapshot {
        servicePorts = List.copyOf(servicePorts);
        errors = List.copyOf(errors);
        newErrors = List.copyOf(newErrors);
    }

    /** True when the dataplane input, the names or the errors differ from {@code other}'s. */
    public boolean differsFrom(final SourceSnapshot other) {
        return other == null || !servicePorts.equals(other.servicePorts) || !names.equals(other.names) || !errors.equals(other.errors);
    }
}
