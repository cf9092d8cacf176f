package dev.ferry.control.endpoints;

import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.control.model.ChangedSpan;
import dev.ferry.control.model.ContainerPort;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Endpoints;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Pod;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServiceName;
import dev.ferry.control.model.ServicePort;
import dev.ferry.control.model.ServiceType;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 * ExternalName services get nothing. Headless services get their endpoints as the others do,
 * for DNS only (the compiler gives them no data path); a headless service without ports lists
 * its pods with no ports, as the EndpointSlice controller does, and a pod whose spec.hostname is
 * set and whose spec.subdomain names the service gets that hostname on its endpoint.
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
        final Inputs inputs = new Inputs(manifests, written(manifests.endpointSlices()));
        final List<List<EndpointSlice>> slices = new ArrayList<>(services.size());
        for (final Service service : services) {
            slices.add(inputs.slicesOf(service));
        }
        return slices;
    }

    /** Written slices by the Service they belong to, in file order. */
    private static Map<ServiceName, List<EndpointSlice>> written(final List<EndpointSlice> slices) {
        final Map<ServiceName, List<EndpointSlice>> written = HashMap.newHashMap(slices.size());
        for (final EndpointSlice slice : slices) {
            written.computeIfAbsent(ServiceName.of(slice), k -> new ArrayList<>(1)).add(slice);
        }
        return written;
    }

    /** What decides a service's slices, the pods and Endpoints indexed on first use. */
    private static final class Inputs {
        private final ManifestSet manifests;
        private final Map<ServiceName, List<EndpointSlice>> written;
        private Map<String, List<Pod>> podsByNamespace;
        private Map<ServiceName, Endpoints> writtenEndpoints;

        Inputs(final ManifestSet manifests, final Map<ServiceName, List<EndpointSlice>> written) {
            this.manifests = manifests;
            this.written = written;
        }

        /** The one rule: written slices if any, else derived from pods by a selector, else mirrored from Endpoints. */
        List<EndpointSlice> slicesOf(final Service service) {
            if (service.type() == ServiceType.ExternalName) {
                return List.of(); // a name only: no endpoints (headless services get theirs, for DNS)
            }
            final ServiceName name = ServiceName.of(service);
            final List<EndpointSlice> own = written.get(name);
            if (own != null) {
                return own;
            }
            if (service.hasSelector()) {
                return derive(service, pods().getOrDefault(service.ref().namespace(), List.of()));
            }
            final Endpoints endpoints = endpoints().get(name);
            return endpoints != null ? mirror(endpoints, service.ref().name()) : List.of();
        }

        private Map<String, List<Pod>> pods() {
            if (podsByNamespace == null) {
                podsByNamespace = new HashMap<>();
                for (final Pod pod : manifests.pods()) {
                    podsByNamespace.computeIfAbsent(pod.ref().namespace(), k -> new ArrayList<>()).add(pod);
                }
            }
            return podsByNamespace;
        }

        private Map<ServiceName, Endpoints> endpoints() {
            if (writtenEndpoints == null) {
                writtenEndpoints = new HashMap<>();
                for (final Endpoints endpoints : manifests.endpoints()) {
                    writtenEndpoints.put(new ServiceName(endpoints.ref().namespace(), endpoints.ref().name()), endpoints);
                }
            }
            return writtenEndpoints;
        }
    }

    /**
     * {@link #slicesOf} for a caller that asks again after every change, as the manifest pipeline
     * does, doing the work for what changed only. Between two calls it lines the services and
     * the slices up with the previous ones by identity (the objects of unchanged files are the
     * same instances, in the same order), from both ends: what lies between is what changed. A
     * service outside that span keeps its previous slices unless a changed slice names it; the
     * written slices by service are updated with the changed ones. When the pods or Endpoints
     * changed at all, or two services share a name, everything is matched again. Not
     * thread-safe: one caller.
     */
    public static final class Incremental {
        private List<Service> services = List.of();
        private List<EndpointSlice> slices = List.of();
        private List<Pod> pods;
        private List<Endpoints> endpoints;
        private List<List<EndpointSlice>> result = List.of();
        private Map<ServiceName, List<EndpointSlice>> written;
        /** Each service by name; null while two share one (then every call matches afresh). */
        private Map<ServiceName, Service> byName;

        public List<List<EndpointSlice>> slicesOf(final List<Service> next, final ManifestSet manifests) {
            final boolean kept = byName != null && same(pods, manifests.pods()) && same(endpoints, manifests.endpoints());
            final List<List<EndpointSlice>> out = kept ? changes(next, manifests) : null;
            return out != null ? out : all(next, manifests);
        }

        private List<List<EndpointSlice>> all(final List<Service> next, final ManifestSet manifests) {
            byName = null; // until this call completes
            written = written(manifests.endpointSlices());
            final Inputs inputs = new Inputs(manifests, written);
            final List<List<EndpointSlice>> out = new ArrayList<>(next.size());
            final Map<ServiceName, Service> names = HashMap.newHashMap(next.size());
            boolean unique = true;
            for (final Service service : next) {
                out.add(inputs.slicesOf(service));
                unique &= names.putIfAbsent(ServiceName.of(service), service) == null;
            }
            remember(next, manifests, out);
            byName = unique ? names : null;
            return out;
        }

        private List<List<EndpointSlice>> changes(final List<Service> next, final ManifestSet manifests) {
            final List<EndpointSlice> nextSlices = manifests.endpointSlices();
            final ChangedSpan sliceSpan = ChangedSpan.between(slices, nextSlices);
            final ChangedSpan serviceSpan = ChangedSpan.between(services, next);
            final Map<ServiceName, List<EndpointSlice>> own = written;
            final Map<ServiceName, Service> names = byName;
            byName = null; // until this call completes: one that throws leaves no half-updated index
            // The names whose slices changed, with the written slices by name brought up to date.
            final List<ServiceName> touched = new ArrayList<>();
            for (int i = sliceSpan.start(); i < sliceSpan.oldEnd(); i++) {
                final EndpointSlice gone = slices.get(i);
                final ServiceName name = ServiceName.of(gone);
                touched.add(name);
                // a new list rather than an edit: lists handed out before are never changed under their holder
                final List<EndpointSlice> left = new ArrayList<>(own.get(name));
                left.removeIf(slice -> slice == gone);
                if (left.isEmpty()) {
                    own.remove(name);
                } else {
                    own.put(name, left);
                }
            }
            for (int i = sliceSpan.start(); i < sliceSpan.newEnd(); i++) {
                final EndpointSlice added = nextSlices.get(i);
                final ServiceName name = ServiceName.of(added);
                touched.add(name);
                final List<EndpointSlice> more = new ArrayList<>(own.getOrDefault(name, List.of()));
                more.add(added);
                own.put(name, more);
            }
            for (int i = serviceSpan.start(); i < serviceSpan.oldEnd(); i++) {
                names.remove(ServiceName.of(services.get(i)), services.get(i));
            }
            for (int i = serviceSpan.start(); i < serviceSpan.newEnd(); i++) {
                if (names.putIfAbsent(ServiceName.of(next.get(i)), next.get(i)) != null) {
                    return null; // a second service of one name
                }
            }
            final Set<Service> affected = Collections.newSetFromMap(new IdentityHashMap<>());
            for (final ServiceName name : touched) {
                final Service service = names.get(name);
                if (service != null) {
                    affected.add(service);
                }
            }

            final Inputs inputs = new Inputs(manifests, own);
            final List<List<EndpointSlice>> out = new ArrayList<>(next.size());
            for (int i = 0; i < serviceSpan.start(); i++) {
                out.add(affected.contains(next.get(i)) ? inputs.slicesOf(next.get(i)) : result.get(i));
            }
            for (int i = serviceSpan.start(); i < serviceSpan.newEnd(); i++) {
                out.add(inputs.slicesOf(next.get(i)));
            }
            for (int i = serviceSpan.newEnd(); i < next.size(); i++) {
                out.add(affected.contains(next.get(i)) ? inputs.slicesOf(next.get(i)) : result.get(serviceSpan.oldIndex(i)));
            }
            remember(next, manifests, out);
            byName = names;
            return out;
        }

        private void remember(final List<Service> next, final ManifestSet manifests, final List<List<EndpointSlice>> out) {
            services = next;
            slices = manifests.endpointSlices();
            pods = manifests.pods();
            endpoints = manifests.endpoints();
            result = out;
        }

        private static boolean same(final List<?> a, final List<?> b) {
            if (a == null || a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i) != b.get(i)) {
                    return false;
                }
            }
            return true;
        }
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
            if (ports.isEmpty() && !(service.headless() && service.ports().isEmpty())) {
                continue;
            }
            final boolean serving = pod.ready();
            final boolean ready = service.publishNotReadyAddresses() || serving && !pod.terminating();
            groups.computeIfAbsent(List.copyOf(ports), k -> new ArrayList<>())
                .add(new SliceEndpoint(pod.ip(), ready, serving, pod.terminating(), pod.nodeName(), List.of(),
                    sameNodeHints(service, pod), pod.hostnameFor(service.ref().name())));
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
