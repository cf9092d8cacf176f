package dev.ferry.control.endpoints;

import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.control.model.ContainerPort;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Endpoints;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Pod;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServiceName;
import dev.ferry.control.model.ServicePort;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Manifest mode's share of the endpoint controllers: decides which EndpointSlices each Service
 * has, as a cluster's controllers would have written them for kube-proxy.
 * <ul>
 *   <li>A Service with a selector owns its endpoints (the EndpointSlice controller): they are
 *       derived from the pods of its namespace that the selector matches — unless
 *       EndpointSlices for it are written out, as in a dump of a real cluster
 *       ({@code kubectl get svc,endpointslices -o yaml}), where the controller already did that
 *       work: then those slices are used as they are. Hand-written Endpoints for it are
 *       ignored. A pod contributes when it has an IPv4
 *       address and has not finished (phase Succeeded or Failed); its conditions are
 *       ready = Ready and not terminating (always true with publishNotReadyAddresses),
 *       serving = Ready, terminating = deletionTimestamp set. A numeric targetPort is used as
 *       is; a named one resolves per pod through its container ports of that name and
 *       protocol, and a pod without one is left out of that service port only.</li>
 *   <li>A Service without a selector keeps the EndpointSlices written for it; when there are
 *       none, its Endpoints object of the same name is turned into slices, as the endpoint
 *       slice mirroring controller does.</li>
 * </ul>
 * ExternalName and headless services get nothing: no packet is ever sent to them.
 */
public final class EndpointsController {
    private EndpointsController() {
    }

    /** The slices of {@code services}, which may differ from {@code manifests}' services (allocated, or last good versions). */
    public static List<EndpointSlice> slices(final List<Service> services, final ManifestSet manifests) {
        final List<EndpointSlice> slices = new ArrayList<>();
        slicesOf(services, manifests).forEach(slices::addAll);
        return slices;
    }

    /**
     * The same slices service by service: element i holds those of {@code services.get(i)} (empty
     * for none), what {@link dev.ferry.control.compile.ServicePortCompiler#compile(List, List)}
     * takes for services of distinct names, such as merged manifests hold. Written slices are the
     * very objects read, so a service whose slices did not change is seen to have the same ones.
     */
    public static List<List<EndpointSlice>> slicesOf(final List<Service> services, final ManifestSet manifests) {
        final Map<String, List<Pod>> podsByNamespace = new HashMap<>();
        for (final Pod pod : manifests.pods()) {
            podsByNamespace.computeIfAbsent(pod.ref().namespace(), k -> new ArrayList<>()).add(pod);
        }
        final Map<ServiceName, List<EndpointSlice>> writtenSlices = HashMap.newHashMap(manifests.endpointSlices().size());
        for (final EndpointSlice slice : manifests.endpointSlices()) {
            writtenSlices.computeIfAbsent(ServiceName.of(slice), k -> new ArrayList<>(1)).add(slice);
        }
        final Map<ServiceName, Endpoints> writtenEndpoints = new HashMap<>();
        for (final Endpoints endpoints : manifests.endpoints()) {
            writtenEndpoints.put(new ServiceName(endpoints.ref().namespace(), endpoints.ref().name()), endpoints);
        }

        final List<List<EndpointSlice>> slices = new ArrayList<>(services.size());
        for (final Service service : services) {
            if (!service.hasDataPath()) {
                slices.add(List.of());
                continue;
            }
            final ServiceName name = ServiceName.of(service);
            final List<EndpointSlice> written = writtenSlices.get(name);
            if (written != null) {
                slices.add(written);
            } else if (service.hasSelector()) {
                slices.add(derive(service, podsByNamespace.getOrDefault(service.ref().namespace(), List.of())));
            } else if (writtenEndpoints.containsKey(name)) {
                slices.add(mirror(writtenEndpoints.get(name), service.ref().name()));
            } else {
                slices.add(List.of());
            }
        }
        return slices;
    }

    /**
     * trafficDistribution PreferSameNode: the controller hints each endpoint for its own node.
     * (It also hints zones, and PreferClose and PreferSameZone hint zones only; manifest mode
     * knows no pod's zone, so it writes no zone hints: written EndpointSlices carry them.)
     */
    private static List<String> sameNodeHints(final Service service, final Pod pod) {
        return "PreferSameNode".equals(service.trafficDistribution()) && pod.nodeName() != null ? List.of(pod.nodeName()) : List.of();
    }

    /**
     * The slices the EndpointSlice controller would write: pods grouped by the ports they resolve
     * to, one slice per group, pods in file order.
     */
    static List<EndpointSlice> derive(final Service service, final List<Pod> pods) {
        final Map<List<SlicePort>, List<SliceEndpoint>> groups = new LinkedHashMap<>();
        for (final Pod pod : pods) {
            if (!pod.hasIp() || pod.terminal() || !pod.matches(service.selector())) {
                continue;
            }
            final List<SlicePort> ports = new ArrayList<>();
            for (final ServicePort port : service.ports()) {
                final int number = resolve(port, pod);
                if (number != 0) {
                    ports.add(new SlicePort(port.name(), port.protocol(), number));
                }
            }
            if (ports.isEmpty()) {
                continue;
            }
            final boolean serving = pod.ready();
            final boolean ready = service.publishNotReadyAddresses() || serving && !pod.terminating();
            groups.computeIfAbsent(List.copyOf(ports), k -> new ArrayList<>())
                .add(new SliceEndpoint(pod.ip(), ready, serving, pod.terminating(), pod.nodeName(), List.of(),
                    sameNodeHints(service, pod)));
        }
        final List<EndpointSlice> slices = new ArrayList<>();
        int index = 0;
        for (final Map.Entry<List<SlicePort>, List<SliceEndpoint>> group : groups.entrySet()) {
            final ObjectRef ref = new ObjectRef(service.ref().file(), "EndpointSlice", service.ref().namespace(),
                service.ref().name() + "-derived-" + index++);
            slices.add(new EndpointSlice(ref, service.ref().name(), group.getKey(), group.getValue()));
        }
        return slices;
    }

    /** The pod's port for a service port (podutil.FindPort): a number as is, a name through the container ports; 0 when none. */
    static int resolve(final ServicePort port, final Pod pod) {
        if (!port.targetPort().isNamed()) {
            return port.targetPort().number();
        }
        for (final ContainerPort containerPort : pod.ports()) {
            if (containerPort.name().equals(port.targetPort().name()) && containerPort.protocol() == port.protocol()) {
                return containerPort.containerPort();
            }
        }
        return 0;
    }

    /** One slice per subset, as the mirroring controller writes them. */
    static List<EndpointSlice> mirror(final Endpoints endpoints, final String serviceName) {
        final List<EndpointSlice> slices = new ArrayList<>();
        for (int i = 0; i < endpoints.subsets().size(); i++) {
            final Endpoints.Subset subset = endpoints.subsets().get(i);
            final ObjectRef ref = new ObjectRef(endpoints.ref().file(), "EndpointSlice", endpoints.ref().namespace(),
                endpoints.ref().name() + "-mirrored-" + i);
            slices.add(new EndpointSlice(ref, serviceName, subset.ports(), subset.endpoints()));
        }
        return slices;
    }
}
