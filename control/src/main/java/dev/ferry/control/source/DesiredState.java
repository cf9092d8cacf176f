package dev.ferry.control.source;

import dev.ferry.control.dns.ServiceNames;
import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.List;

/**
 * One desired state: the service ports, the services' DNS names (from the same objects), how
 * many services and endpoints changed since the last one, and the cluster's service ranges
 * (API mode: its ServiceCIDR objects'; empty in manifest mode), which join the node config's
 * serviceCIDRs: routed into ferry0 and their unallocated addresses dropped as the node
 * config's are.
 */
public record DesiredState(List<dev.ferry.dataplane.service.ServicePortSpec> ports, ServiceNames names, int servicesChanged,
                           int endpointsChanged, List<Ipv4Cidr> extraServiceCidrs) {
    public DesiredState {
        ports = List.copyOf(ports);
        extraServiceCidrs = List.copyOf(extraServiceCidrs);
    }

    /** A state without names and with the node config's service ranges alone (a source or test that serves no DNS). */
    public DesiredState(final List<dev.ferry.dataplane.service.ServicePortSpec> ports, final int servicesChanged,
                        final int endpointsChanged) {
        this(ports, ServiceNames.EMPTY, servicesChanged, endpointsChanged, List.of());
    }
}
