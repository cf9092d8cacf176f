package dev.ferry.control.allocate;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.model.ChangedSpan;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServicePort;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Manifest mode's share of the API server: gives Services the ClusterIPs, NodePorts and health
 * check node ports their manifests leave out, and rejects explicit values that cannot be had.
 *
 * <p>The order of precedence, which is what keeps allocations stable:
 * <ol>
 *   <li>explicit values, in file order: one outside the node config's ranges, or already
 *       claimed by an earlier service, is an error for the later service, naming both;</li>
 *   <li>the value the service had in the previous run ({@link Allocations}, kept in memory and
 *       optionally in a file), when it is still in range and free;</li>
 *   <li>a new value: a hash of "namespace/name" (ClusterIP), "namespace/name/port" (NodePort) or
 *       "namespace/name/healthCheckNodePort" picks a start in the dynamic band of the range and
 *       the first free value from there is taken (see {@link AllocationRange}), services taken
 *       in name order so that file order does not matter.</li>
 * </ol>
 * As in the API server, NodePorts are unique across services whatever the protocol, and the
 * ports of one service that share a port number (53/UDP and 53/TCP) share a NodePort.
 *
 * <p>After a run that rejected nothing, the next one does the work for the new and changed
 * services only, where it can show that the result is the same as a full run's
 * ({@link #allocateChanges}); unchanged services keep their allocated instances. Else, and
 * always after a run with an error, everything is allocated again in the order above.
 *
 * <p>A service whose current version is rejected here keeps its last good version when one is
 * given and that version still fits; the error then says so. Not thread-safe: one caller.
 */
public final class ServiceAllocator {
    // KEP-3070 and KEP-3668: the static band is size/step, clamped to [min, max].
    private static final long CLUSTER_IP_BAND_MIN = 16;
    private static final long CLUSTER_IP_BAND_MAX = 256;
    private static final long CLUSTER_IP_BAND_STEP = 16;
    private static final long NODE_PORT_BAND_MIN = 16;
    private static final long NODE_PORT_BAND_MAX = 128;
    private static final long NODE_PORT_BAND_STEP = 32;

    private final NodeConfig config;
    private final List<AllocationRange> clusterIpRanges = new ArrayList<>();
    private final AllocationRange nodePortRange;
    private Allocations remembered;
    /** The last run, when it rejected nothing: what {@link #allocateChanges} starts from. */
    private Clean lastClean;

    /**
     * The outcome of one allocation run.
     *
     * @param services    the accepted services, in input order, every allocatable value filled in
     * @param accepted    the same services as decoded (before allocation): the last good versions for the next run
     * @param errors      one per rejected service
     * @param allocations what {@code services} hold, to remember for the next run
     */
    public record Result(List<Service> services, List<Service> accepted, List<ManifestError> errors, Allocations allocations) {
        public Result {
            services = List.copyOf(services);
            accepted = List.copyOf(accepted);
            errors = List.copyOf(errors);
        }
    }

    /** @param remembered the allocations of a previous run (from an {@link AllocationStore}), or {@link Allocations#NONE} */
    public ServiceAllocator(final NodeConfig config, final Allocations remembered) {
        this.config = config;
        this.remembered = remembered;
        for (final Ipv4Cidr cidr : config.serviceCidrs()) {
            clusterIpRanges.add(clusterIpRange(cidr));
        }
        nodePortRange = AllocationRange.banded(config.nodePortMin(), config.nodePortMax() - config.nodePortMin() + 1L,
            NODE_PORT_BAND_MIN, NODE_PORT_BAND_MAX, NODE_PORT_BAND_STEP);
    }

    /** The allocations of the last run (or those given at construction). */
    public Allocations remembered() {
        return remembered;
    }

    /** The usable addresses of a service CIDR: all but the network and broadcast addresses, for prefixes up to /30. */
    private static AllocationRange clusterIpRange(final Ipv4Cidr cidr) {
        final long base = Integer.toUnsignedLong(cidr.base());
        final long size = 1L << (32 - cidr.prefixLen());
        final boolean trim = cidr.prefixLen() <= 30;
        return AllocationRange.banded(trim ? base + 1 : base, trim ? size - 2 : size,
            CLUSTER_IP_BAND_MIN, CLUSTER_IP_BAND_MAX, CLUSTER_IP_BAND_STEP);
    }

    /** A value owned by a service, and what it is to that service, for messages. */
    private record Claim(Service owner, String what) {
        String describe() {
            return what + " of " + owner.ref();
        }
    }

    /** One accepted service being filled in. */
    private static final class Work {
        final Service service;
        final List<Integer> clusterIps;
        final int[] nodePorts;
        int healthCheckNodePort;
        boolean failed;
        private Service allocated;

        Work(final Service service) {
            this.service = service;
            this.clusterIps = new ArrayList<>(service.clusterIps());
            this.nodePorts = new int[service.ports().size()];
            for (int i = 0; i < nodePorts.length; i++) {
                nodePorts[i] = service.ports().get(i).nodePort();
            }
            this.healthCheckNodePort = service.healthCheckNodePort();
        }

        String namespace() {
            return service.ref().namespace();
        }

        String name() {
            return service.ref().name();
        }

        /**
         * The service with its values filled in, once they all are; the same instance at every
         * call, so that a service that keeps its values is the same object in the next run's
         * result (later steps recognise unchanged services by identity).
         */
        Service allocated() {
            if (allocated == null) {
                final List<Integer> portList = new ArrayList<>(nodePorts.length);
                for (final int port : nodePorts) {
                    portList.add(port);
                }
                allocated = service.withAllocations(clusterIps, portList, healthCheckNodePort);
            }
            return allocated;
        }
    }

    /**
     * Validates explicit values and allocates missing ones.
     *
     * @param services the services read, in file order
     * @param lastGood the last accepted version of each service by {@link Service#identity()}; may be empty
     */
    public Result allocate(final List<Service> services, final Map<String, Service> lastGood) {
        return allocate(services, lastGood::get);
    }

    /**
     * The same, with the last good versions looked up as needed: only a rejected service needs
     * its own, and building them all at every reload is not free at 10,000 services.
     *
     * @param lastGood the last accepted version of a service by {@link Service#identity()}, or null
     */
    public Result allocate(final List<Service> services, final Function<String, Service> lastGood) {
        final Clean previous = lastClean;
        lastClean = null; // until this run completes: one that throws leaves no half-updated claims behind
        final Result changes = previous == null ? null : allocateChanges(services, previous);
        return changes != null ? changes : allocateAll(services, lastGood);
    }

    /**
     * A run that rejected nothing, kept for the next: each input service (by instance) with what
     * it was given, and every value they hold, by owner.
     */
    private record Clean(Result result, Map<Service, Work> works, Map<String, Service> byKey, Map<Integer, Claim> addresses,
                         Map<Integer, Claim> ports) {
    }

    private Result allocateAll(final List<Service> services, final Function<String, Service> lastGood) {
        final Map<Integer, Claim> addresses = new HashMap<>();
        final Map<Integer, Claim> ports = new HashMap<>();
        final List<ManifestError> errors = new ArrayList<>();
        final List<Work> works = new ArrayList<>();

        // 1. Explicit values, first come first served in file order.
        for (final Service current : services) {
            Service chosen = current;
            final ManifestError problem = checkExplicit(current, addresses, ports);
            if (problem != null) {
                final Service previous = lastGood.apply(current.identity());
                if (previous != null && !previous.equals(current) && checkExplicit(previous, addresses, ports) == null) {
                    errors.add(withNote(problem, "its last good version keeps serving"));
                    chosen = previous;
                } else {
                    errors.add(problem);
                    continue;
                }
            }
            works.add(explicitWork(chosen, addresses, ports));
        }

        // 2. What each service had before, when still free.
        for (final Work work : works) {
            takeRemembered(work, addresses, ports);
        }

        // 3. New values by hash, services in name order.
        final List<Work> byName = new ArrayList<>(works);
        byName.sort(Comparator.comparing((Work w) -> w.namespace()).thenComparing(Work::name));
        for (final Work work : byName) {
            allocateNew(work, addresses, ports, errors);
        }

        final List<Service> result = new ArrayList<>();
        final List<Service> accepted = new ArrayList<>();
        final Map<String, Integer> clusterIps = new HashMap<>();
        final Map<String, Integer> nodePorts = new HashMap<>();
        final Map<String, Integer> healthChecks = new HashMap<>();
        final Map<Service, Work> byInput = new IdentityHashMap<>();
        final Map<String, Service> byKey = new HashMap<>();
        boolean uniqueNames = true;
        for (final Work work : works) {
            if (work.failed) {
                continue;
            }
            result.add(work.allocated());
            accepted.add(work.service);
            record(work, clusterIps, nodePorts, healthChecks);
            byInput.put(work.service, work); // the input itself: with no error, no last good version was chosen
            uniqueNames &= byKey.putIfAbsent(work.service.ref().key(), work.service) == null;
        }
        remembered = new Allocations(clusterIps, nodePorts, healthChecks);
        final Result done = new Result(result, accepted, errors, remembered);
        if (errors.isEmpty() && uniqueNames) {
            lastClean = new Clean(done, byInput, byKey, addresses, ports);
        }
        return done;
    }

    /**
     * The same result as {@link #allocateAll}, after a run that rejected nothing and whose
     * services had distinct names, doing the work for the services that are not the very
     * instances of that run (new, or a new version) only. What makes the rest hold:
     * <ul>
     *   <li>the unchanged services were all accepted and their values are unique, so they pass
     *       step 1 again and each finds its own value free in step 2, and they need nothing in
     *       step 3, as long as no changed service takes one of their values. Only an explicit
     *       value could: step 1 checks the changed services against every value the unchanged
     *       ones hold (explicit or allocated), and gives up on any problem. (A remembered value
     *       cannot: it is remembered by name, and a name held by an unchanged service also makes
     *       this give up.)</li>
     *   <li>otherwise a changed service meets in each step exactly the values it would meet in a
     *       full run: those of the unchanged services and of the changed ones before it. One that
     *       cannot be given a value also makes this give up, leaving the error to a full run.</li>
     * </ul>
     * Returns null when it gives up. The values of services that are gone are free again.
     */
    private Result allocateChanges(final List<Service> services, final Clean previous) {
        // A clean run accepted every input in order: line the lists up by identity from both
        // ends, so that only the span where they differ is looked at (a one-file change: a few).
        final List<Service> before = previous.result().accepted();
        final ChangedSpan span = ChangedSpan.between(before, services);
        if (span.start() == span.oldEnd() && span.start() == span.newEnd()) {
            lastClean = previous;
            return previous.result(); // the very same services: the same values (remembered holds them)
        }
        final Set<Service> oldSpan = Collections.newSetFromMap(new IdentityHashMap<>());
        oldSpan.addAll(before.subList(span.start(), span.oldEnd()));
        final Set<Service> newSpan = Collections.newSetFromMap(new IdentityHashMap<>());
        final List<Service> changed = new ArrayList<>();
        for (final Service service : services.subList(span.start(), span.newEnd())) {
            if (!newSpan.add(service)) {
                return null; // one instance listed twice: a full run rejects the second
            }
            if (!previous.works().containsKey(service)) {
                changed.add(service);
            } else if (!oldSpan.contains(service)) {
                return null; // an unchanged instance outside the span as well: listed twice
            }
        }
        final List<Work> gone = new ArrayList<>();
        for (final Service service : oldSpan) {
            if (!newSpan.contains(service)) {
                gone.add(previous.works().get(service));
            }
        }
        final Map<Integer, Claim> addresses = previous.addresses();
        final Map<Integer, Claim> ports = previous.ports();
        final Map<String, Service> byKey = previous.byKey();
        for (final Work work : gone) {
            release(work, addresses, ports);
            byKey.remove(work.service.ref().key(), work.service);
        }
        for (final Service service : changed) {
            if (byKey.putIfAbsent(service.ref().key(), service) != null) {
                return null; // a second service of one name: allocations are remembered by name
            }
        }
        final List<Work> works = new ArrayList<>();
        for (final Service service : changed) {
            // The claims held include every unchanged service's values, explicit or allocated:
            // any problem here, taking one of them included, is for a full run to judge.
            if (checkExplicit(service, addresses, ports) != null) {
                return null;
            }
            works.add(explicitWork(service, addresses, ports));
        }
        for (final Work work : works) {
            takeRemembered(work, addresses, ports);
        }
        final List<Work> byName = new ArrayList<>(works);
        byName.sort(Comparator.comparing((Work w) -> w.namespace()).thenComparing(Work::name));
        final List<ManifestError> errors = new ArrayList<>();
        for (final Work work : byName) {
            allocateNew(work, addresses, ports, errors);
        }
        if (!errors.isEmpty()) {
            return null;
        }

        final Map<Service, Work> byInput = previous.works();
        gone.forEach(work -> byInput.remove(work.service));
        works.forEach(work -> byInput.put(work.service, work));
        final List<Service> result = new ArrayList<>(services.size());
        final List<Service> allocatedBefore = previous.result().services(); // aligned with before
        for (int i = 0; i < services.size(); i++) {
            result.add(i < span.start() || i >= span.newEnd() ? allocatedBefore.get(span.oldIndex(i))
                : byInput.get(services.get(i)).allocated());
        }
        if (!recorded(gone).equals(recorded(works))) {
            // Names are unique, so what the gone services held and what the changed ones hold
            // now are exactly the entries that change.
            final Map<String, Integer> clusterIps = new TreeMap<>(remembered.clusterIps());
            final Map<String, Integer> nodePorts = new TreeMap<>(remembered.nodePorts());
            final Map<String, Integer> healthChecks = new TreeMap<>(remembered.healthCheckNodePorts());
            gone.forEach(work -> forget(work, clusterIps, nodePorts, healthChecks));
            works.forEach(work -> record(work, clusterIps, nodePorts, healthChecks));
            remembered = new Allocations(clusterIps, nodePorts, healthChecks);
        } // else a new version with the values of the old (an endpoint or port edit): the same allocations, not even copied
        final Result done = new Result(result, services, List.of(), remembered);
        lastClean = new Clean(done, byInput, byKey, addresses, ports);
        return done;
    }

    /** What {@link #record} puts for {@code works}, in maps of their own. */
    private static Allocations recorded(final List<Work> works) {
        final Map<String, Integer> clusterIps = new HashMap<>();
        final Map<String, Integer> nodePorts = new HashMap<>();
        final Map<String, Integer> healthChecks = new HashMap<>();
        works.forEach(work -> record(work, clusterIps, nodePorts, healthChecks));
        return new Allocations(clusterIps, nodePorts, healthChecks);
    }

    /** Step 1's claim of an accepted service: its explicit values, node ports shared by port number. */
    private static Work explicitWork(final Service service, final Map<Integer, Claim> addresses, final Map<Integer, Claim> ports) {
        claimExplicit(service, addresses, ports);
        final Work work = new Work(service);
        shareNodePortsByPortNumber(work);
        return work;
    }

    /** Step 2 for one service: the values it had before, where still free. */
    private void takeRemembered(final Work work, final Map<Integer, Claim> addresses, final Map<Integer, Claim> ports) {
        if (needsClusterIp(work)) {
            final Integer ip = remembered.clusterIps().get(Allocations.clusterIpKey(work.namespace(), work.name()));
            if (ip != null && usableClusterIp(ip) && !addresses.containsKey(ip)) {
                work.clusterIps.add(ip);
                addresses.put(ip, new Claim(work.service, "the ClusterIP"));
            }
        }
        for (final int servicePort : missingNodePortGroups(work)) {
            final Integer port = remembered.nodePorts().get(Allocations.nodePortKey(work.namespace(), work.name(), servicePort));
            if (port != null && nodePortRange.contains(port) && !ports.containsKey(port)) {
                setNodePort(work, servicePort, port, ports);
            }
        }
        if (needsHealthCheckNodePort(work)) {
            final Integer port = remembered.healthCheckNodePorts().get(Allocations.healthCheckKey(work.namespace(), work.name()));
            if (port != null && nodePortRange.contains(port) && !ports.containsKey(port)) {
                work.healthCheckNodePort = port;
                ports.put(port, new Claim(work.service, "the health check node port"));
            }
        }
    }

    /** Frees the values a service of an earlier run held. */
    private static void release(final Work work, final Map<Integer, Claim> addresses, final Map<Integer, Claim> ports) {
        for (final int ip : work.clusterIps) {
            addresses.computeIfPresent(ip, (k, claim) -> claim.owner() == work.service ? null : claim);
        }
        for (final int port : work.nodePorts) {
            ports.computeIfPresent(port, (k, claim) -> claim.owner() == work.service ? null : claim);
        }
        ports.computeIfPresent(work.healthCheckNodePort, (k, claim) -> claim.owner() == work.service ? null : claim);
    }

    /** What an accepted service holds, under the keys {@link Allocations} remembers it by. */
    private static void record(final Work work, final Map<String, Integer> clusterIps, final Map<String, Integer> nodePorts,
                               final Map<String, Integer> healthChecks) {
        if (!work.clusterIps.isEmpty()) {
            clusterIps.put(Allocations.clusterIpKey(work.namespace(), work.name()), work.clusterIps.get(0));
        }
        for (int i = 0; i < work.nodePorts.length; i++) {
            if (work.nodePorts[i] != 0) {
                nodePorts.putIfAbsent(Allocations.nodePortKey(work.namespace(), work.name(),
                    work.service.ports().get(i).port()), work.nodePorts[i]);
            }
        }
        if (work.healthCheckNodePort != 0) {
            healthChecks.put(Allocations.healthCheckKey(work.namespace(), work.name()), work.healthCheckNodePort);
        }
    }

    /** Removes what {@link #record} put for {@code work}. */
    private static void forget(final Work work, final Map<String, Integer> clusterIps, final Map<String, Integer> nodePorts,
                               final Map<String, Integer> healthChecks) {
        clusterIps.remove(Allocations.clusterIpKey(work.namespace(), work.name()));
        for (final ServicePort port : work.service.ports()) {
            nodePorts.remove(Allocations.nodePortKey(work.namespace(), work.name(), port.port()));
        }
        healthChecks.remove(Allocations.healthCheckKey(work.namespace(), work.name()));
    }

    private void allocateNew(final Work work, final Map<Integer, Claim> addresses, final Map<Integer, Claim> ports,
                             final List<ManifestError> errors) {
        final String key = work.namespace() + "/" + work.name();
        if (needsClusterIp(work)) {
            if (clusterIpRanges.isEmpty()) {
                fail(work, errors, "spec.clusterIP", "is not set and the node config has no serviceCIDRs to allocate one "
                    + "from; set spec.clusterIP or add serviceCIDRs to the node config");
                return;
            }
            long ip = -1;
            for (final AllocationRange range : clusterIpRanges) {
                ip = range.allocate(key, address -> addresses.containsKey(address));
                if (ip >= 0) {
                    break;
                }
            }
            if (ip < 0) {
                fail(work, errors, "spec.clusterIP", "cannot be allocated: every address of the serviceCIDRs "
                    + config.serviceCidrs() + " is taken");
                return;
            }
            work.clusterIps.add((int) ip);
            addresses.put((int) ip, new Claim(work.service, "the ClusterIP"));
        }
        for (final int servicePort : missingNodePortGroups(work)) {
            final long port = nodePortRange.allocate(key + "/" + servicePort, p -> ports.containsKey(p));
            if (port < 0) {
                fail(work, errors, "spec.ports[" + firstIndexOf(work, servicePort) + "].nodePort",
                    "cannot be allocated: every port of the nodePortRange " + config.nodePortRange() + " is taken");
                return;
            }
            setNodePort(work, servicePort, (int) port, ports);
        }
        if (needsHealthCheckNodePort(work)) {
            final long port = nodePortRange.allocate(key + "/healthCheckNodePort", p -> ports.containsKey(p));
            if (port < 0) {
                fail(work, errors, "spec.healthCheckNodePort",
                    "cannot be allocated: every port of the nodePortRange " + config.nodePortRange() + " is taken");
                return;
            }
            work.healthCheckNodePort = (int) port;
            ports.put((int) port, new Claim(work.service, "the health check node port"));
        }
    }

    private static void fail(final Work work, final List<ManifestError> errors, final String field, final String problem) {
        work.failed = true;
        errors.add(new ManifestError(work.service.ref().file(), work.service.identity(), field, problem));
    }

    private static boolean needsClusterIp(final Work work) {
        return work.service.clusterIpUnset() && work.clusterIps.isEmpty();
    }

    private static boolean needsHealthCheckNodePort(final Work work) {
        return work.service.needsHealthCheckNodePort() && work.healthCheckNodePort == 0;
    }

    /** The service port numbers some of whose ports still lack a NodePort, in port order. */
    private static List<Integer> missingNodePortGroups(final Work work) {
        if (!work.service.allocatesNodePorts()) {
            return List.of();
        }
        final LinkedHashMap<Integer, Boolean> groups = new LinkedHashMap<>();
        for (int i = 0; i < work.nodePorts.length; i++) {
            if (work.nodePorts[i] == 0) {
                groups.put(work.service.ports().get(i).port(), true);
            }
        }
        return List.copyOf(groups.keySet());
    }

    private static int firstIndexOf(final Work work, final int servicePort) {
        for (int i = 0; i < work.nodePorts.length; i++) {
            if (work.service.ports().get(i).port() == servicePort) {
                return i;
            }
        }
        return 0;
    }

    private static void setNodePort(final Work work, final int servicePort, final int nodePort, final Map<Integer, Claim> ports) {
        for (int i = 0; i < work.nodePorts.length; i++) {
            if (work.nodePorts[i] == 0 && work.service.ports().get(i).port() == servicePort) {
                work.nodePorts[i] = nodePort;
            }
        }
        ports.put(nodePort, new Claim(work.service, "a node port"));
    }

    /** A port left without a NodePort takes the explicit one of a port with the same number, as the API server does. */
    private static void shareNodePortsByPortNumber(final Work work) {
        if (!work.service.allocatesNodePorts()) {
            return;
        }
        for (int i = 0; i < work.nodePorts.length; i++) {
            if (work.nodePorts[i] != 0) {
                continue;
            }
            for (int j = 0; j < work.nodePorts.length; j++) {
                if (work.nodePorts[j] != 0 && work.service.ports().get(j).port() == work.service.ports().get(i).port()) {
                    work.nodePorts[i] = work.nodePorts[j];
                    break;
                }
            }
        }
    }

    private boolean usableClusterIp(final int ip) {
        final long address = Integer.toUnsignedLong(ip);
        return clusterIpRanges.stream().anyMatch(r -> r.contains(address));
    }

    /** The first problem with the service's explicit values, or null. Claims nothing. */
    private ManifestError checkExplicit(final Service service, final Map<Integer, Claim> addresses, final Map<Integer, Claim> ports) {
        final String file = service.ref().file();
        final String object = service.identity();
        for (int i = 0; i < service.clusterIps().size(); i++) {
            final int ip = service.clusterIps().get(i);
            final String field = i == 0 ? "spec.clusterIP" : "spec.clusterIPs[" + i + "]";
            final String problem = config.clusterIpProblem(ip);
            if (problem != null) {
                return new ManifestError(file, object, field, problem);
            }
            final Claim owner = addresses.get(ip);
            if (owner != null) {
                return new ManifestError(file, object, field, Ipv4.format(ip) + " is already " + owner.describe());
            }
        }
        final Map<String, Integer> own = new HashMap<>();
        for (int i = 0; i < service.ports().size(); i++) {
            final ServicePort port = service.ports().get(i);
            if (port.nodePort() == 0) {
                continue;
            }
            final String field = "spec.ports[" + i + "].nodePort";
            if (port.nodePort() < config.nodePortMin() || port.nodePort() > config.nodePortMax()) {
                return new ManifestError(file, object, field, port.nodePort() + " is outside the node's nodePortRange "
                    + config.nodePortRange());
            }
            final Integer same = own.putIfAbsent(port.nodePort() + "/" + port.protocol(), i);
            if (same != null) {
                return new ManifestError(file, object, field, port.nodePort() + "/" + port.protocol()
                    + " is already the node port of spec.ports[" + same + "]");
            }
            final Claim owner = ports.get(port.nodePort());
            if (owner != null) {
                return new ManifestError(file, object, field, port.nodePort() + " is already " + owner.describe());
            }
        }
        final int healthCheck = service.healthCheckNodePort();
        if (healthCheck != 0) {
            final String field = "spec.healthCheckNodePort";
            if (healthCheck < config.nodePortMin() || healthCheck > config.nodePortMax()) {
                return new ManifestError(file, object, field, healthCheck + " is outside the node's nodePortRange "
                    + config.nodePortRange());
            }
            for (int i = 0; i < service.ports().size(); i++) {
                if (service.ports().get(i).nodePort() == healthCheck) {
                    return new ManifestError(file, object, field, healthCheck + " is already spec.ports[" + i + "].nodePort");
                }
            }
            final Claim owner = ports.get(healthCheck);
            if (owner != null) {
                return new ManifestError(file, object, field, healthCheck + " is already " + owner.describe());
            }
        }
        return null;
    }

    private static void claimExplicit(final Service service, final Map<Integer, Claim> addresses, final Map<Integer, Claim> ports) {
        for (final int ip : service.clusterIps()) {
            addresses.put(ip, new Claim(service, "the ClusterIP"));
        }
        for (final ServicePort port : service.ports()) {
            if (port.nodePort() != 0) {
                ports.put(port.nodePort(), new Claim(service, "a node port"));
            }
        }
        if (service.healthCheckNodePort() != 0) {
            ports.put(service.healthCheckNodePort(), new Claim(service, "the health check node port"));
        }
    }

    static ManifestError withNote(final ManifestError error, final String note) {
        return new ManifestError(error.file(), error.object(), error.field(), error.problem() + "; " + note);
    }
}
